package dhcp

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rackboot/rackboot/internal/golden"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/internal/testinv"
	"github.com/rackboot/rackboot/leases"
)

var (
	serverAddr = netip.MustParseAddr("192.0.2.1")
	knownMAC   = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	otherMAC   = net.HardwareAddr{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}
)

// testSubnets is 192.0.2.0/24 with a range of three addresses, and the
// relayed 198.51.100.0/24.
const testSubnets = `
  - cidr: 192.0.2.0/24
    range: 192.0.2.100-192.0.2.102
    router: 192.0.2.1
    dns: [192.0.2.1]
    lease_time: 1h
  - cidr: 198.51.100.0/24
    range: 198.51.100.10-198.51.100.20
    router: 198.51.100.1
    lease_time: 30m
`

// testYAML is the handler tests' inventory: one known machine with a fixed
// address, a kernel profile and a pxelinux one.
func testYAML(defaultProfile, subnets string) string {
	y := `
dhcp:
  subnets:` + subnets + `
profiles:
  demo: {kernel: vmlinuz, initrd: [initrd.gz], cmdline: console=ttyS0}
  pxelinux: {kernel: vmlinuz, loader: pxelinux}
machines:
  - {mac: "52:54:00:12:34:56", hostname: node1, ipv4: 192.0.2.50, profile: demo}
`
	if defaultProfile != "" {
		y += "default_profile: " + defaultProfile + "\n"
	}
	return y
}

// testHandlerConfig parses yaml and builds the handler's configuration
// from it, as serve does.
func testHandlerConfig(t testing.TB, yaml string) HandlerConfig {
	t.Helper()
	cfg := testinv.Parse(t, yaml)
	inv := boot.NewInventory(cfg)
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetLevel(logrus.WarnLevel)
	return HandlerConfig{
		Inventory: func() *boot.Inventory { return inv },
		Subnets:   cfg.DHCP.Subnets,
		Server:    boot.Server{Addr: serverAddr, HTTPPort: 8080},
		Log:       log, Store: leases.NewMem(),
	}
}

func testHandler(t testing.TB, defaultProfile string, now func() time.Time) *Handler {
	t.Helper()
	hc := testHandlerConfig(t, testYAML(defaultProfile, testSubnets))
	if now == nil {
		now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	}
	hc.Now = now
	return mustHandler(t, hc)
}

func mustHandler(t testing.TB, hc HandlerConfig) *Handler {
	t.Helper()
	h, err := NewHandler(hc)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// request builds a request with a fixed transaction ID.
func request(t testing.TB, mt dhcpv4.MessageType, mac net.HardwareAddr, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	all := append([]dhcpv4.Modifier{
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithTransactionID(dhcpv4.TransactionID{1, 2, 3, 4}),
	}, mods...)
	req, err := dhcpv4.NewDiscovery(mac, all...)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func pxe(arch iana.Arch) []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00007:UNDI:003010")),
		dhcpv4.WithOption(dhcpv4.OptClientArch(arch)),
	}
}

func ipxeMods() []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")),
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.INTEL_X86PC)),
		dhcpv4.WithOption(dhcpv4.OptUserClass("iPXE")),
		dhcpv4.WithGeneric(dhcpv4.OptionEtherboot, []byte{0xb1, 0x05, 0x01, 0x80, 0x86, 0x10, 0x0e}),
	}
}

// TestReplyGolden checks whole replies against testdata/*.golden
// (UPDATE_GOLDEN=1 rewrites them).
func TestReplyGolden(t *testing.T) {
	uuid := append([]byte{0}, []byte("0123456789abcdef")...)
	relayed := []dhcpv4.Modifier{dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1)),
		dhcpv4.WithGeneric(dhcpv4.OptionRelayAgentInformation, []byte{1, 3, 'e', 't', '0'})}
	tests := []struct {
		name string
		req  func(t *testing.T) *dhcpv4.DHCPv4
	}{
		{"discover-bios-ipxe-known", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeDiscover, knownMAC, ipxeMods()...)
		}},
		{"discover-uefi-pxe-unknown", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeDiscover, otherMAC, append(pxe(iana.EFI_X86_64), dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, uuid))...)
		}},
		{"discover-bios-pxe-unknown", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeDiscover, otherMAC, pxe(iana.INTEL_X86PC)...)
		}},
		{"discover-arm64", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeDiscover, otherMAC, pxe(iana.EFI_ARM64)...)
		}},
		{"discover-httpclient", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeDiscover, otherMAC,
				dhcpv4.WithOption(dhcpv4.OptClassIdentifier("HTTPClient:Arch:00016:UNDI:003000")),
				dhcpv4.WithOption(dhcpv4.OptClientArch(iana.EFI_X86_64_HTTP)))
		}},
		{"discover-plain", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeDiscover, otherMAC)
		}},
		{"discover-relayed", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeDiscover, otherMAC, relayed...)
		}},
		{"request-fixed-address", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeRequest, knownMAC, append(ipxeMods(),
				dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 0, 2, 50))),
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverAddr.AsSlice())))...)
		}},
		{"request-wrong-fixed-address-nak", func(t *testing.T) *dhcpv4.DHCPv4 {
			return request(t, dhcpv4.MessageTypeRequest, knownMAC,
				dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 0, 2, 100))))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHandler(t, "demo", nil)
			reply := h.Handle(tt.req(t))
			got := "no reply\n"
			if reply != nil {
				got = reply.Summary()
			}
			checkGolden(t, filepath.Join("testdata", tt.name+".golden"), got)
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, []byte(got))
}

// TestBootFields checks which boot file each client class gets.
func TestBootFields(t *testing.T) {
	tests := []struct {
		name     string
		mac      net.HardwareAddr
		mods     []dhcpv4.Modifier
		dflt     string
		wantFile string
		wantNext string
	}{
		{"ipxe gets the script URL", knownMAC, ipxeMods(), "", "http://192.0.2.1:8080/boot.ipxe", "0.0.0.0"},
		{"bios pxe gets undionly", otherMAC, pxe(iana.INTEL_X86PC), "demo", "undionly.kpxe", "192.0.2.1"},
		{"efi x86-64 gets ipxe.efi", otherMAC, pxe(iana.EFI_X86_64), "demo", "ipxe.efi", "192.0.2.1"},
		{"efi bc gets ipxe.efi", otherMAC, pxe(iana.EFI_BC), "demo", "ipxe.efi", "192.0.2.1"},
		{"unknown machine without default gets no boot", otherMAC, pxe(iana.INTEL_X86PC), "", "", "0.0.0.0"},
		{"plain client gets no boot", otherMAC, nil, "demo", "", "0.0.0.0"},
		{"arm64 gets the arm64 build", otherMAC, pxe(iana.EFI_ARM64), "demo", "ipxe-arm64.efi", "192.0.2.1"},
		{"ppc has no program", otherMAC, pxe(iana.PPC_OPEN_FIRMWARE), "demo", "", "0.0.0.0"},
		{"pxelinux profile, bios pxe", otherMAC, pxe(iana.INTEL_X86PC), "pxelinux", "pxelinux.0", "192.0.2.1"},
		{"pxelinux profile, ipxe rom", otherMAC, ipxeMods(), "pxelinux", "pxelinux.0", "192.0.2.1"},
		{"pxelinux profile, efi keeps ipxe", otherMAC, pxe(iana.EFI_X86_64), "pxelinux", "ipxe.efi", "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHandler(t, tt.dflt, nil)
			r := h.Handle(request(t, dhcpv4.MessageTypeDiscover, tt.mac, tt.mods...))
			if r == nil {
				t.Fatal("no offer")
			}
			if r.BootFileName != tt.wantFile || r.ServerIPAddr.String() != tt.wantNext {
				t.Errorf("file, next-server = %q, %s; want %q, %s", r.BootFileName, r.ServerIPAddr, tt.wantFile, tt.wantNext)
			}
		})
	}
}

// TestAddressLifecycle walks DISCOVER, REQUEST, RELEASE, exhaustion and an
// offer that times out.
func TestAddressLifecycle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := testHandler(t, "demo", func() time.Time { return now })
	macs := []net.HardwareAddr{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 3}, {2, 0, 0, 0, 0, 4}}
	offer := func(mac net.HardwareAddr) *dhcpv4.DHCPv4 {
		return h.Handle(request(t, dhcpv4.MessageTypeDiscover, mac))
	}
	ack := func(mac net.HardwareAddr, ip net.IP) *dhcpv4.DHCPv4 {
		return h.Handle(request(t, dhcpv4.MessageTypeRequest, mac,
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ip)),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverAddr.AsSlice()))))
	}
	o := offer(macs[0])
	if got := o.YourIPAddr.String(); got != "192.0.2.100" {
		t.Fatalf("first offer = %s, want 192.0.2.100", got)
	}
	if again := offer(macs[0]); !again.YourIPAddr.Equal(o.YourIPAddr) {
		t.Errorf("second DISCOVER from the same client got %s, want %s", again.YourIPAddr, o.YourIPAddr)
	}
	if a := ack(macs[0], o.YourIPAddr); a.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("REQUEST got %s, want ACK", a.MessageType())
	}
	if n := ack(macs[1], o.YourIPAddr); n.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("REQUEST for another client's address got %s, want NAK", n.MessageType())
	}
	offer(macs[1])
	offer(macs[2])
	// A pool full of offers and bindings gives the oldest offer to the
	// new client (a flood of DISCOVERs cannot lock clients out); the
	// client that lost it gets a NAK for it.
	if r := offer(macs[3]); r == nil || r.YourIPAddr.String() != "192.0.2.101" {
		t.Fatalf("pool full of offers: offer = %v, want 192.0.2.101 (the oldest offer)", r)
	}
	if n := ack(macs[1], net.ParseIP("192.0.2.101")); n.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("REQUEST for a reclaimed offer got %s, want NAK", n.MessageType())
	}
	now = now.Add(DefaultOfferHold + time.Second)
	if r := offer(macs[3]); r == nil || r.YourIPAddr.String() != "192.0.2.101" {
		t.Errorf("after the offers lapsed, offer = %v, want 192.0.2.101", r)
	}
	h.Handle(request(t, dhcpv4.MessageTypeRelease, macs[0], dhcpv4.WithClientIP(o.YourIPAddr)))
	// The released address goes to others only when nothing else is free.
	if r := offer(macs[1]); r == nil || r.YourIPAddr.String() != "192.0.2.102" {
		t.Errorf("after RELEASE, offer = %v, want 192.0.2.102", r)
	}
	if r := offer(macs[2]); r == nil || r.YourIPAddr.String() != "192.0.2.100" {
		t.Errorf("after RELEASE, offer = %v, want the released 192.0.2.100", r)
	}
	if r := ack(macs[2], net.IPv4(192, 0, 2, 50)); r.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("REQUEST for a machine's fixed address got %s, want NAK", r.MessageType())
	}
}

// TestRequestForOtherServer checks silence when the client chose another
// server (RFC 2131 section 4.3.2).
func TestRequestForOtherServer(t *testing.T) {
	h := testHandler(t, "demo", nil)
	r := h.Handle(request(t, dhcpv4.MessageTypeRequest, otherMAC,
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 0, 2, 100))),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(192, 0, 2, 9)))))
	if r != nil {
		t.Errorf("answered a REQUEST meant for another server: %s", r.Summary())
	}
}

// TestNewHandlerDependencies: a nil logger logs nothing (as in every other
// package) instead of panicking; a missing store or inventory is an error,
// not a silent in-memory store that loses every lease on restart.
func TestNewHandlerDependencies(t *testing.T) {
	hc := testHandlerConfig(t, testYAML("demo", testSubnets))
	hc.Log = nil
	h := mustHandler(t, hc)
	if r := h.Handle(request(t, dhcpv4.MessageTypeDiscover, otherMAC)); r == nil {
		t.Error("handler with a nil logger did not answer")
	}
	hc.Store = nil
	if _, err := NewHandler(hc); err == nil || err.Error() != "dhcp: NewHandler needs a lease store" {
		t.Errorf("without a store: %v", err)
	}
}

// TestRelayInfoOnce: option 82 comes back to the relay once, byte for byte
// (RFC 3046 section 2.2), in an OFFER and in a NAK.
func TestRelayInfoOnce(t *testing.T) {
	h := testHandler(t, "demo", nil)
	info := []byte{1, 4, 'p', 'o', 'r', 't', 2, 2, 'r', '1'}
	mods := []dhcpv4.Modifier{dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1)), dhcpv4.WithGeneric(dhcpv4.OptionRelayAgentInformation, info)}
	for _, r := range []*dhcpv4.DHCPv4{
		h.Handle(request(t, dhcpv4.MessageTypeDiscover, otherMAC, mods...)),
		h.Handle(request(t, dhcpv4.MessageTypeRequest, otherMAC, append(mods, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 9, 9, 9))))...)),
	} {
		if r == nil {
			t.Fatal("no reply")
		}
		b := r.ToBytes()
		if n := bytes.Count(b[240:], append([]byte{82, byte(len(info))}, info...)); n != 1 {
			t.Errorf("%s carries option 82 %d times, want once", r.MessageType(), n)
		}
	}
}

// Handle is Respond for tests: it returns the reply to req, or nil when none is due (or, with
// HandlerConfig.Go set, when the reply waits for a probe and will not come
// back through Handle).
func (h *Handler) Handle(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	var reply *dhcpv4.DHCPv4
	var mu sync.Mutex
	h.Respond(req, func(r *dhcpv4.DHCPv4) {
		mu.Lock()
		reply = r
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	return reply
}
