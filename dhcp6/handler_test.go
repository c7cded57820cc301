package dhcp6

import (
	"encoding/hex"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/internal/golden"
	"github.com/rackboot/rackboot/leases"
)

// render writes a reply as the library prints it, then its bytes.
func render(reply dhcpv6.DHCPv6) []byte {
	if reply == nil {
		return []byte("no reply\n")
	}
	return []byte(reply.Summary() + "\n" + hex.Dump(reply.ToBytes()))
}

// TestReplyGolden: each kind of reply, byte for byte.
func TestReplyGolden(t *testing.T) {
	relayed := func(c client, t dhcpv6.MessageType, mac net.HardwareAddr) dhcpv6.DHCPv6 {
		r, err := dhcpv6.EncapsulateRelay(c.msg(t), dhcpv6.MessageTypeRelayForward,
			net.ParseIP("2001:db8:2::1"), net.ParseIP("fe80::5054:ff:fe00:99"))
		if err != nil {
			panic(err)
		}
		if mac != nil {
			r.AddOption(dhcpv6.OptClientLinkLayerAddress(iana.HWTypeEthernet, mac))
		}
		r.AddOption(dhcpv6.OptInterfaceID([]byte("eth7")))
		return r
	}
	withServer := func(c client) client { c.server = serverDUID; return c }
	tests := []struct {
		name  string
		proxy bool
		req   dhcpv6.DHCPv6
		src   Source
	}{
		{"advertise-pxe-fixed", false, ovmfPXE(knownMAC).msg(dhcpv6.MessageTypeSolicit), onLink(knownMAC)},
		{"reply-request-pxe-fixed", false, withServer(ovmfPXE(knownMAC)).msg(dhcpv6.MessageTypeRequest), onLink(knownMAC)},
		{"advertise-httpboot-pool", false, ovmfHTTP(otherMAC).msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)},
		{"advertise-ipxe-duid-uuid-zero", false, ipxe([16]byte{}).msg(dhcpv6.MessageTypeSolicit), onLink(knownMAC)},
		{"advertise-plain", false, plain(otherMAC).msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)},
		{"reply-rapid-commit", false, func() dhcpv6.DHCPv6 { c := plain(otherMAC); c.rapid = true; return c.msg(dhcpv6.MessageTypeSolicit) }(), onLink(otherMAC)},
		{"reply-information-request", false, ipxe([16]byte{}).msg(dhcpv6.MessageTypeInformationRequest), onLink(knownMAC)},
		{"reply-confirm-not-on-link", false, func() dhcpv6.DHCPv6 {
			c := plain(otherMAC)
			c.addr = netip.MustParseAddr("2001:db8:9::5")
			return c.msg(dhcpv6.MessageTypeConfirm)
		}(), onLink(otherMAC)},
		{"reply-release", false, func() dhcpv6.DHCPv6 {
			c := withServer(plain(otherMAC))
			c.addr = netip.MustParseAddr("2001:db8:1::120")
			return c.msg(dhcpv6.MessageTypeRelease)
		}(), onLink(otherMAC)},
		{"relay-reply-option79", false, relayed(ovmfPXE(mustMAC("52:54:00:00:00:01")), dhcpv6.MessageTypeSolicit, mustMAC("52:54:00:00:00:99")), Source{Addr: netip.MustParseAddrPort("[2001:db8:2::1]:547")}},
		{"relay-reply-pxelinux-no-boot", false, relayed(func() client { c := ovmfPXE(mustMAC("52:54:00:00:00:88")); c.arch = iana.INTEL_X86PC; return c }(), dhcpv6.MessageTypeSolicit, nil), Source{Addr: netip.MustParseAddrPort("[2001:db8:2::1]:547")}},
		{"proxy-advertise-pxe", true, ovmfPXE(otherMAC).msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)},
		{"proxy-reply-request-4011", true, withServer(ovmfPXE(otherMAC)).msg(dhcpv6.MessageTypeRequest), Source{Addr: netip.MustParseAddrPort("[2001:db8:1::99]:4011")}},
		{"proxy-advertise-httpboot", true, ovmfHTTP(otherMAC).msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)},
		{"proxy-advertise-ipxe", true, ipxe([16]byte{}).msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)},
		{"proxy-plain-ignored", true, plain(otherMAC).msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, tt.proxy)
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), render(handle(t, h, tt.req, tt.src)))
		})
	}
}

// TestBootChoice: the boot file URL for each client, bracketed, from the
// same decision as IPv4.
func TestBootChoice(t *testing.T) {
	tests := []struct {
		name       string
		c          client
		wantURL    string
		wantVendor string
	}{
		{"pxe firmware gets ipxe.efi over tftp", ovmfPXE(otherMAC), "tftp://[2001:db8:1::1]/ipxe.efi", ""},
		{"http boot gets the program's URL and HTTPClient", ovmfHTTP(otherMAC), "http://[2001:db8:1::1]:8080/assets/ipxe.efi", "HTTPClient"},
		{"ipxe gets its script", ipxe([16]byte{}), "http://[2001:db8:1::1]:8080/boot.ipxe", ""},
		{"a plain client gets no boot file", plain(otherMAC), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, false)
			m := handle(t, h, tt.c.msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)).(*dhcpv6.Message)
			if got := m.Options.BootFileURL(); got != tt.wantURL {
				t.Errorf("boot file URL = %q, want %q", got, tt.wantURL)
			}
			vc := m.Options.VendorClass(EnterprisePXE)
			if (tt.wantVendor == "") != (len(vc) == 0) || (len(vc) > 0 && string(vc[0]) != tt.wantVendor) {
				t.Errorf("vendor class %q, want %q", vc, tt.wantVendor)
			}
			if replyAddr(m) == (netip.Addr{}) {
				t.Error("full mode gave no address")
			}
		})
	}
}

// TestVendorClassOffset: OVMF reads "HTTPClient" at offset 6 of option
// 16's data (after the enterprise number and the data length).
func TestVendorClassOffset(t *testing.T) {
	h, _ := newTestHandler(t, false)
	b, err := h.Handle(ovmfHTTP(otherMAC).msg(dhcpv6.MessageTypeSolicit).ToBytes(), onLink(otherMAC))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "\x00\x10\x00\x10") // option 16, length 16
	if i < 0 {
		t.Fatalf("no option 16 of length 16 in %x", b)
	}
	data := b[i+4:]
	if string(data[:4]) != "\x00\x00\x01\x57" || string(data[6:16]) != "HTTPClient" {
		t.Errorf("option 16 data = %q", data[:16])
	}
}

// TestSameMachineOneAddress: OVMF's second DHCPv6 client (another IAID)
// and iPXE after it (DUID-UUID) on the same MAC get the address the first
// one got, so a boot takes one address of the pool, not three.
func TestSameMachineOneAddress(t *testing.T) {
	h, store := newTestHandler(t, false)
	first := ovmfPXE(otherMAC)
	a := replyAddr(handle(t, h, first.msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)).(*dhcpv6.Message))
	first.server = serverDUID
	b := replyAddr(handle(t, h, first.msg(dhcpv6.MessageTypeRequest), onLink(otherMAC)).(*dhcpv6.Message))
	second := plain(otherMAC)
	second.iaid = [4]byte{7, 7, 7, 7}
	second.server = serverDUID
	c := replyAddr(handle(t, h, second.msg(dhcpv6.MessageTypeRequest), onLink(otherMAC)).(*dhcpv6.Message))
	third := ipxe([16]byte{})
	third.server = serverDUID
	d := replyAddr(handle(t, h, third.msg(dhcpv6.MessageTypeRequest), onLink(otherMAC)).(*dhcpv6.Message))
	if !a.IsValid() || a != b || b != c || c != d {
		t.Errorf("addresses %v %v %v %v, want one", a, b, c, d)
	}
	ls, _ := store.List()
	if len(ls) != 1 || ls[0].IP != a || ls[0].MAC.String() != otherMAC.String() || ls[0].State != leases.Bound {
		t.Errorf("store holds %+v, want one bound lease of %v", ls, a)
	}
}

// TestSmallPoolExhausted: the relayed subnet has two addresses; a third
// machine gets NoAddrsAvail, and a released address goes to it.
func TestSmallPoolExhausted(t *testing.T) {
	h, _ := newTestHandler(t, false)
	relay := func(mac net.HardwareAddr, t dhcpv6.MessageType, server bool, addr netip.Addr) dhcpv6.DHCPv6 {
		c := plain(mac)
		if server {
			c.server = serverDUID
		}
		c.addr = addr
		r, _ := dhcpv6.EncapsulateRelay(c.msg(t), dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:2::1"), net.ParseIP("fe80::1"))
		return r
	}
	src := Source{Addr: netip.MustParseAddrPort("[2001:db8:2::1]:547")}
	inner := func(r dhcpv6.DHCPv6) *dhcpv6.Message {
		m, err := r.(*dhcpv6.RelayMessage).GetInnerMessage()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var got []netip.Addr
	for i := range 2 {
		mac := net.HardwareAddr{2, 0, 0, 0, 0, byte(i)}
		got = append(got, replyAddr(inner(handle(t, h, relay(mac, dhcpv6.MessageTypeRequest, true, netip.Addr{}), src))))
	}
	if !got[0].IsValid() || !got[1].IsValid() || got[0] == got[1] {
		t.Fatalf("two machines got %v", got)
	}
	third := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	m := inner(handle(t, h, relay(third, dhcpv6.MessageTypeSolicit, false, netip.Addr{}), src))
	ia := m.Options.OneIANA()
	if replyAddr(m).IsValid() || ia == nil || ia.Options.Status() == nil || ia.Options.Status().StatusCode != iana.StatusNoAddrsAvail {
		t.Fatalf("third machine: %v", m.Summary())
	}
	handle(t, h, relay(net.HardwareAddr{2, 0, 0, 0, 0, 0}, dhcpv6.MessageTypeRelease, true, got[0]), src)
	if a := replyAddr(inner(handle(t, h, relay(third, dhcpv6.MessageTypeSolicit, false, netip.Addr{}), src))); a != got[0] {
		t.Errorf("after the release the third machine got %v, want %v", a, got[0])
	}
	if h.Metrics.NoAddrs.Load() != 1 || h.Metrics.Releases.Load() != 1 {
		t.Errorf("metrics %v", h.Metrics.Snapshot())
	}
}

// TestDeclineQuarantines: a declined address is held for everyone.
func TestDeclineQuarantines(t *testing.T) {
	h, store := newTestHandler(t, false)
	c := plain(otherMAC)
	c.server = serverDUID
	a := replyAddr(handle(t, h, c.msg(dhcpv6.MessageTypeRequest), onLink(otherMAC)).(*dhcpv6.Message))
	c.addr = a
	handle(t, h, c.msg(dhcpv6.MessageTypeDecline), onLink(otherMAC))
	b := replyAddr(handle(t, h, c.msg(dhcpv6.MessageTypeRequest), onLink(otherMAC)).(*dhcpv6.Message))
	if !b.IsValid() || a == b {
		t.Errorf("after declining %v the client got %v", a, b)
	}
	if ls, _ := store.List(); len(ls) != 2 || ls[0].State != leases.Declined {
		t.Errorf("store: %+v", ls)
	}
}

// TestIgnored: requests for another server, replies, and (in proxy mode)
// address messages get no answer.
func TestIgnored(t *testing.T) {
	other := &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 9, 9, 9, 9, 9}}
	c := ovmfPXE(otherMAC)
	c.server = other
	forOther := c.msg(dhcpv6.MessageTypeRequest)
	c.server = serverDUID
	renew := c.msg(dhcpv6.MessageTypeRenew)
	reply := c.msg(dhcpv6.MessageTypeReply)
	for _, tt := range []struct {
		name  string
		proxy bool
		m     *dhcpv6.Message
	}{
		{"request for another server", false, forOther},
		{"a reply", false, reply},
		{"proxy renew", true, renew},
		{"proxy request for another server", true, forOther},
	} {
		h, _ := newTestHandler(t, tt.proxy)
		if r := handle(t, h, tt.m, onLink(otherMAC)); r != nil {
			t.Errorf("%s: got %s", tt.name, r.Summary())
		}
	}
}

// TestProxyHandsOutNothing: proxy replies carry no IA_NA and no
// preference, so the network's server still gives the address.
func TestProxyHandsOutNothing(t *testing.T) {
	h, store := newTestHandler(t, true)
	m := handle(t, h, ovmfPXE(otherMAC).msg(dhcpv6.MessageTypeSolicit), onLink(otherMAC)).(*dhcpv6.Message)
	if m.Options.OneIANA() != nil || m.GetOneOption(dhcpv6.OptionPreference) != nil {
		t.Errorf("proxy advertise: %s", m.Summary())
	}
	if vc := m.Options.VendorClass(EnterprisePXE); len(vc) != 1 || string(vc[0]) != "PXEClient" {
		t.Errorf("vendor class %q, want PXEClient", vc)
	}
	if len(store.Log) != 0 {
		t.Errorf("proxy wrote leases: %v", store.Log)
	}
}

// TestConcurrentRequests: 64 machines asking at once from many goroutines
// get 64 different addresses, each stored once.
func TestConcurrentRequests(t *testing.T) {
	h, store := newTestHandler(t, false)
	var wg sync.WaitGroup
	got := make([]netip.Addr, 64)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mac := net.HardwareAddr{2, 0, 0, 0, 1, byte(i)}
			c := plain(mac)
			c.server = serverDUID
			b, err := h.Handle(c.msg(dhcpv6.MessageTypeRequest).ToBytes(), onLink(mac))
			if err != nil {
				t.Error(err)
				return
			}
			m, _ := dhcpv6.MessageFromBytes(b)
			got[i] = replyAddr(m)
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	for i, a := range got {
		if !a.IsValid() || seen[a] {
			t.Fatalf("machine %d got %v (seen before: %v)", i, a, seen[a])
		}
		seen[a] = true
	}
	if ls, _ := store.List(); len(ls) != len(got) {
		t.Errorf("store holds %d leases, want %d", len(ls), len(got))
	}
}
