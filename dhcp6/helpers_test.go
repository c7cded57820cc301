package dhcp6

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/internal/testinv"
	"github.com/rackboot/rackboot/leases"
)

const testYAML = `
dhcp:
  mode: full
  subnets:
    - cidr: 2001:db8:1::/64
      range: 2001:db8:1::100-2001:db8:1::1ff
      dns: [2001:db8:1::53]
      domain: lab.example
      lease_time: 1h
    - cidr: 2001:db8:2::/64
      range: 2001:db8:2::100-2001:db8:2::101
profiles:
  demo: {kernel: vmlinuz, initrd: [initrd.gz]}
  old: {kernel: vmlinuz, loader: pxelinux}
machines:
  - {mac: "52:54:00:12:34:56", ipv6: "2001:db8:1::50", profile: demo}
  - {mac: "52:54:00:00:00:77", uuid: "33221100-5544-7766-8899-aabbccddeeff", profile: demo}
  - {mac: "52:54:00:00:00:88", profile: old}
  - {mac: "52:54:00:00:00:99", ipv6: "2001:db8:2::99", profile: demo}
default_profile: demo
`

var (
	serverAddr = netip.MustParseAddr("2001:db8:1::1")
	serverDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0x02, 0, 0, 0, 0, 1}}
	testNow    = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	knownMAC   = mustMAC("52:54:00:12:34:56")
	otherMAC   = mustMAC("52:54:00:aa:bb:cc")
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// newTestHandler builds a handler over the test inventory with an
// in-memory store; proxy selects proxy mode.
func newTestHandler(t testing.TB, proxy bool) (*Handler, *leases.Mem) {
	t.Helper()
	cfg := testinv.Parse(t, testYAML)
	inv := boot.NewInventory(cfg)
	store := leases.NewMem()
	var subnets = cfg.DHCP.Subnets
	h, err := NewHandler(Config{
		Inventory: func() *boot.Inventory { return inv }, ServerID: serverDUID, Proxy: proxy,
		Server:  boot.Server{Addr: serverAddr, HTTPPort: 8080},
		Subnets: subnets, Store: store, Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, store
}

// client describes a test client's request.
type client struct {
	duid      dhcpv6.DUID
	arch      iana.Arch
	hasArch   bool
	vendor    string
	userClass string
	iaid      [4]byte
	addr      netip.Addr // an IA address the client lists
	server    dhcpv6.DUID
	rapid     bool
}

// ovmfPXE is OVMF's PXEv6 Solicit as the lab saw it: DUID-LLT with the
// MAC, ORO 59 60 23 16, option 61 = 7, option 16 PXEClient.
func ovmfPXE(mac net.HardwareAddr) client {
	return client{duid: &dhcpv6.DUIDLLT{HWType: iana.HWTypeEthernet, Time: 1, LinkLayerAddr: mac},
		arch: iana.EFI_X86_64, hasArch: true, vendor: "PXEClient:Arch:00007:UNDI:003000", iaid: [4]byte{0, 0, 0, 1}}
}

// ovmfHTTP is OVMF's HTTPv6 Solicit: option 61 = 16, HTTPClient.
func ovmfHTTP(mac net.HardwareAddr) client {
	c := ovmfPXE(mac)
	c.arch, c.vendor = iana.EFI_X86_64_HTTP, "HTTPClient:Arch:00016:UNDI:003000"
	return c
}

// ipxe is iPXE's Solicit: DUID-UUID (all zeros without an SMBIOS UUID),
// user class iPXE.
func ipxe(uuid [16]byte) client {
	return client{duid: &dhcpv6.DUIDUUID{UUID: uuid}, arch: iana.EFI_X86_64, hasArch: true,
		vendor: "PXEClient:Arch:00007:UNDI:003010", userClass: "iPXE", iaid: [4]byte{0x12, 0x34, 0x56, 0x78}}
}

func plain(mac net.HardwareAddr) client {
	return client{duid: &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac}, iaid: [4]byte{9, 9, 9, 9}}
}

// msg builds a message of type t from c, with transaction id 0xabcdef.
func (c client) msg(t dhcpv6.MessageType) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: dhcpv6.TransactionID{0xab, 0xcd, 0xef}}
	m.AddOption(dhcpv6.OptClientID(c.duid))
	if c.server != nil {
		m.AddOption(dhcpv6.OptServerID(c.server))
	}
	m.AddOption(dhcpv6.OptRequestedOption(dhcpv6.OptionBootfileURL, dhcpv6.OptionBootfileParam, dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionVendorClass))
	m.AddOption(dhcpv6.OptElapsedTime(0))
	if c.hasArch {
		m.AddOption(dhcpv6.OptClientArchType(c.arch))
	}
	if c.vendor != "" {
		m.AddOption(&dhcpv6.OptVendorClass{EnterpriseNumber: EnterprisePXE, Data: [][]byte{[]byte(c.vendor)}})
	}
	if c.userClass != "" {
		m.AddOption(&dhcpv6.OptUserClass{UserClasses: [][]byte{[]byte(c.userClass)}})
	}
	if c.rapid {
		m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	}
	if t != dhcpv6.MessageTypeInformationRequest {
		ia := &dhcpv6.OptIANA{IaId: c.iaid}
		if c.addr.IsValid() {
			ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: c.addr.AsSlice(), PreferredLifetime: time.Hour, ValidLifetime: time.Hour})
		}
		m.AddOption(ia)
	}
	return m
}

// onLink is the source of an on-link request from mac.
func onLink(mac net.HardwareAddr) Source {
	return Source{Addr: netip.MustParseAddrPort("[fe80::5054:ff:fe12:3456%br0]:546"), MAC: mac}
}

// handle runs one request through h and parses the reply (nil for none).
func handle(t *testing.T, h *Handler, req dhcpv6.DHCPv6, src Source) dhcpv6.DHCPv6 {
	t.Helper()
	b, err := h.Handle(req.ToBytes(), src)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if b == nil {
		return nil
	}
	reply, err := dhcpv6.FromBytes(b)
	if err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	return reply
}

// replyAddr is the address of the reply's first IA_NA, or invalid.
func replyAddr(m *dhcpv6.Message) netip.Addr {
	ia := m.Options.OneIANA()
	if ia == nil || ia.Options.OneAddress() == nil {
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(ia.Options.OneAddress().IPv6Addr)
	return a
}
