package proxydhcp

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/rackboot/rackboot/internal/golden"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/testinv"
)

var (
	serverAddr = netip.MustParseAddr("192.0.2.1")
	clientMAC  = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	uuidOpt    = append([]byte{0}, []byte("0123456789abcdef")...)
)

func newResponder(t testing.TB, defaultProfile string) *Responder {
	y := "profiles: {demo: {kernel: vmlinuz}}\n"
	if defaultProfile != "" {
		y += "default_profile: " + defaultProfile + "\n"
	}
	inv := boot.NewInventory(testinv.Parse(t, y))
	return New(func() *boot.Inventory { return inv }, boot.Server{Addr: serverAddr, HTTPPort: 8080}, nil, nil)
}

// answer has r answer q as if it came in on port (67 or 4011).
func answer(r *Responder, port int, q *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	var reply *dhcpv4.DHCPv4
	h := dhcpwire.Responder(r)
	if port == BootServerPort {
		h = r.BootServer()
	}
	h.Respond(q, func(x *dhcpv4.DHCPv4) { reply = x })
	return reply
}

func req(t testing.TB, mt dhcpv4.MessageType, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	all := append([]dhcpv4.Modifier{dhcpv4.WithMessageType(mt), dhcpv4.WithTransactionID(dhcpv4.TransactionID{9, 8, 7, 6})}, mods...)
	r, err := dhcpv4.NewDiscovery(clientMAC, all...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func vendor(v string, arch iana.Arch) []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier(v)),
		dhcpv4.WithOption(dhcpv4.OptClientArch(arch)),
		dhcpv4.WithGeneric(dhcpv4.GenericOptionCode(97), uuidOpt),
	}
}

// TestReplyGolden checks every client class's proxy reply byte for byte in
// readable form (UPDATE_GOLDEN=1 rewrites testdata/*.golden).
func TestReplyGolden(t *testing.T) {
	ipxe := append(vendor("PXEClient:Arch:00000:UNDI:002001", iana.INTEL_X86PC), dhcpv4.WithOption(dhcpv4.OptUserClass("iPXE")))
	tests := []struct {
		name string
		mt   dhcpv4.MessageType
		mods []dhcpv4.Modifier
		port int
	}{
		{"offer-bios-pxe", dhcpv4.MessageTypeDiscover, vendor("PXEClient:Arch:00000:UNDI:002001", iana.INTEL_X86PC), 67},
		{"offer-uefi-pxe", dhcpv4.MessageTypeDiscover, vendor("PXEClient:Arch:00007:UNDI:003010", iana.EFI_X86_64), 67},
		{"offer-ipxe", dhcpv4.MessageTypeDiscover, ipxe, 67},
		{"offer-httpclient", dhcpv4.MessageTypeDiscover, vendor("HTTPClient:Arch:00016:UNDI:003000", iana.EFI_X86_64_HTTP), 67},
		{"ack-4011-uefi", dhcpv4.MessageTypeRequest, append(vendor("PXEClient:Arch:00007:UNDI:003010", iana.EFI_X86_64), dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 77))), 4011},
		{"ack-4011-ipxe", dhcpv4.MessageTypeRequest, ipxe, 4011},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResponder(t, "demo")
			reply := answer(r, tt.port, req(t, tt.mt, tt.mods...))
			if reply == nil {
				t.Fatal("no reply")
			}
			if !reply.YourIPAddr.IsUnspecified() {
				t.Errorf("proxy reply offers address %s", reply.YourIPAddr)
			}
			checkGolden(t, filepath.Join("testdata", tt.name+".golden"), reply.Summary())
		})
	}
}

// TestIgnored checks what proxyDHCP must leave alone.
func TestIgnored(t *testing.T) {
	pxe := vendor("PXEClient:Arch:00000:UNDI:002001", iana.INTEL_X86PC)
	tests := []struct {
		name string
		dflt string
		mt   dhcpv4.MessageType
		mods []dhcpv4.Modifier
		port int
	}{
		{"plain client", "demo", dhcpv4.MessageTypeDiscover, nil, 67},
		{"other vendor class", "demo", dhcpv4.MessageTypeDiscover, []dhcpv4.Modifier{dhcpv4.WithOption(dhcpv4.OptClassIdentifier("MSFT 5.0"))}, 67},
		{"REQUEST on 67 is the real server's", "demo", dhcpv4.MessageTypeRequest, pxe, 67},
		{"nothing to boot", "", dhcpv4.MessageTypeDiscover, pxe, 67},
		{"relayed", "demo", dhcpv4.MessageTypeDiscover, append(pxe, dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1))), 67},
		{"DISCOVER on 4011", "demo", dhcpv4.MessageTypeDiscover, pxe, 4011},
		{"arch without program", "demo", dhcpv4.MessageTypeDiscover, vendor("PXEClient:Arch:00012:UNDI:003010", iana.PPC_OPEN_FIRMWARE), 67},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResponder(t, tt.dflt)
			reply := answer(r, tt.port, req(t, tt.mt, tt.mods...))
			if reply != nil {
				t.Errorf("answered:\n%s", reply.Summary())
			}
			if r.Counters.Ignored.Load() == 0 && tt.mt == dhcpv4.MessageTypeDiscover && tt.port == 67 {
				t.Error("ignored request not counted")
			}
		})
	}
}

// TestBootServerLoopback runs port 4011 through the shared receive loop on
// 127.0.0.1: a request gets an ACK at its source address, garbage is counted
// and dropped, and a panic in the responder does not end the loop.
func TestBootServerLoopback(t *testing.T) {
	srvConn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := newResponder(t, "demo")
	crashy := dhcpwire.ResponderFunc(func(q *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
		if q.HostName() == "crash" {
			panic("responder bug")
		}
		return answer(r, BootServerPort, q)
	})
	srv := dhcpwire.NewServer(dhcpwire.NewPacketConn(srvConn), crashy, dhcpwire.RouteToSource, nil, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	client, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.WriteTo([]byte{1, 2, 3}, srvConn.LocalAddr())
	efi := vendor("PXEClient:Arch:00007:UNDI:003010", iana.EFI_X86_64)
	client.WriteTo(req(t, dhcpv4.MessageTypeRequest, append(efi, dhcpv4.WithOption(dhcpv4.OptHostName("crash")))...).ToBytes(), srvConn.LocalAddr())
	rq := req(t, dhcpv4.MessageTypeRequest, efi...)
	client.WriteTo(rq.ToBytes(), srvConn.LocalAddr())
	client.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := client.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	ack, err := dhcpv4.FromBytes(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if ack.MessageType() != dhcpv4.MessageTypeAck || ack.BootFileName != "ipxe.efi" || ack.TransactionID != rq.TransactionID {
		t.Errorf("reply = %s %q xid %s; want ACK ipxe.efi xid %s", ack.MessageType(), ack.BootFileName, ack.TransactionID, rq.TransactionID)
	}
	if m, p := srv.Counters.Malformed.Load(), srv.Counters.Panics.Load(); m != 1 || p != 1 {
		t.Errorf("malformed = %d, panics = %d; want 1 and 1", m, p)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// FuzzHandle feeds arbitrary packets to both ports' responders: a reply
// never carries an address, always names this server, and answers the
// request's xid and chaddr.
func FuzzHandle(f *testing.F) {
	for _, b := range [][]byte{
		mustBytes(dhcpv4.MessageTypeDiscover, vendor("PXEClient:Arch:00000:UNDI:002001", iana.INTEL_X86PC)...),
		mustBytes(dhcpv4.MessageTypeRequest, vendor("HTTPClient:Arch:00016:UNDI:003000", iana.EFI_X86_64_HTTP)...),
		mustBytes(dhcpv4.MessageTypeDiscover, append(vendor("PXEClient:Arch:00000:UNDI:002001", iana.INTEL_X86PC), dhcpv4.WithOption(dhcpv4.OptUserClass("iPXE")))...),
	} {
		f.Add(b)
	}
	r := newResponder(f, "demo")
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := dhcpwire.Parse(b)
		if err != nil {
			return
		}
		for _, port := range []int{67, BootServerPort} {
			reply := answer(r, port, q)
			if reply == nil {
				continue
			}
			if !reply.YourIPAddr.IsUnspecified() || !reply.ServerIdentifier().Equal(serverAddr.AsSlice()) ||
				reply.TransactionID != q.TransactionID || reply.ClientHWAddr.String() != q.ClientHWAddr.String() {
				t.Fatalf("port %d reply %s to %s", port, reply.Summary(), q.Summary())
			}
		}
	})
}

// mustBytes is req for fuzz seeds.
func mustBytes(mt dhcpv4.MessageType, mods ...dhcpv4.Modifier) []byte {
	all := append([]dhcpv4.Modifier{dhcpv4.WithMessageType(mt)}, mods...)
	r, err := dhcpv4.NewDiscovery(clientMAC, all...)
	if err != nil {
		panic(err)
	}
	return r.ToBytes()
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, []byte(got))
}

func TestEvents(t *testing.T) {
	inv := boot.NewInventory(testinv.Parse(t, "profiles: {demo: {kernel: vmlinuz}}\ndefault_profile: demo\n"))
	var got events.Collector
	r := New(func() *boot.Inventory { return inv }, boot.Server{Addr: serverAddr, HTTPPort: 8080}, nil, &got)
	answer(r, 67, req(t, dhcpv4.MessageTypeDiscover, vendor("PXEClient:Arch:00007:UNDI:003010", iana.EFI_X86_64)...))
	answer(r, 67, req(t, dhcpv4.MessageTypeDiscover))
	evs := got.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(evs), evs)
	}
	if e := evs[0]; e.Kind != events.KindProxyDHCP || e.Reply != "OFFER" || e.BootFile != "ipxe.efi" || e.Profile != "demo" ||
		e.Via != "default_profile" || e.Class != "pxe" || e.MAC.String() != "52:54:00:12:34:56" {
		t.Errorf("offer event = %+v", e)
	}
	if e := evs[1]; e.Reply != "" || e.Class != "plain" || e.Reason == "" {
		t.Errorf("ignored event = %+v", e)
	}
}

// TestDiscoverHold: with server.discover_hold a PXE client no rule gives
// a profile gets a proxy offer with the iPXE build, and iPXE the script
// URL; without it, nothing (TestIgnored).
func TestDiscoverHold(t *testing.T) {
	inv := boot.NewInventory(testinv.Parse(t, "server: {discover_hold: true, assets: "+t.TempDir()+"}\nprofiles: {demo: {kernel: vmlinuz}}\n"))
	r := New(func() *boot.Inventory { return inv }, boot.Server{Addr: serverAddr, HTTPPort: 8080, Has: func(string) bool { return true }}, nil, nil)
	pxe := answer(r, 67, req(t, dhcpv4.MessageTypeDiscover, vendor("PXEClient:Arch:00000:UNDI:002001", iana.INTEL_X86PC)...))
	if pxe == nil || pxe.BootFileName != "undionly.kpxe" {
		t.Fatalf("held BIOS PXE client: %v", pxe)
	}
	ipxe := answer(r, 67, req(t, dhcpv4.MessageTypeDiscover, append(vendor("PXEClient:Arch:00000:UNDI:002001", iana.INTEL_X86PC), dhcpv4.WithUserClass("iPXE", false))...))
	if ipxe == nil || ipxe.BootFileName != "http://192.0.2.1:8080/boot.ipxe" {
		t.Fatalf("held iPXE client: %v", ipxe)
	}
}

// refusalsFunc adapts a function to dhcpwire.Refusals and records what it
// was asked.
type refusalsFunc struct {
	refused bool
	asked   []bool // the discover argument of each call
}

func (f *refusalsFunc) RefusedIPXE(mac net.HardwareAddr, discover bool) bool {
	f.asked = append(f.asked, discover)
	return f.refused && mac.String() == clientMAC.String()
}

// TestRefusedIPXEAuto: with loader auto, a UEFI PXE client whose firmware
// refused iPXE (the Refusals says so) gets Shim in the file field, on port
// 67 and 4011 alike, and the event names the loader; one that did not
// gets iPXE. iPXE itself is never asked about.
func TestRefusedIPXEAuto(t *testing.T) {
	inv := boot.NewInventory(testinv.Parse(t, "profiles: {demo: {kernel: vmlinuz, loader: auto}}\ndefault_profile: demo\n"))
	srv := boot.Server{Addr: serverAddr, HTTPPort: 8080, Has: func(string) bool { return true }}
	uefi := vendor("PXEClient:Arch:00007:UNDI:003010", iana.EFI_X86_64)
	ipxe := append(vendor("PXEClient:Arch:00007:UNDI:003010", iana.EFI_X86_64), dhcpv4.WithOption(dhcpv4.OptUserClass("iPXE")))
	tests := []struct {
		name      string
		refused   bool
		mt        dhcpv4.MessageType
		port      int
		mods      []dhcpv4.Modifier
		file      string
		loader    string
		asked     []bool
		goldenOut string
	}{
		{"not refused", false, dhcpv4.MessageTypeDiscover, 67, uefi, "ipxe.efi", "ipxe", []bool{true}, ""},
		{"refused, DISCOVER", true, dhcpv4.MessageTypeDiscover, 67, uefi, "secureboot/shimx64.efi", "grub", []bool{true}, "offer-uefi-refused-ipxe"},
		{"refused, REQUEST on 4011", true, dhcpv4.MessageTypeRequest, 4011, append(uefi, dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 77))),
			"secureboot/shimx64.efi", "grub", []bool{false}, "ack-4011-uefi-refused-ipxe"},
		{"iPXE is not asked", true, dhcpv4.MessageTypeDiscover, 67, ipxe, "http://192.0.2.1:8080/boot.ipxe", "ipxe", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rf := &refusalsFunc{refused: tt.refused}
			var got events.Collector
			r := New(func() *boot.Inventory { return inv }, srv, nil, &got).WithRefusals(rf)
			reply := answer(r, tt.port, req(t, tt.mt, tt.mods...))
			if reply == nil {
				t.Fatal("no reply")
			}
			if reply.BootFileName != tt.file {
				t.Errorf("file field %q, want %q", reply.BootFileName, tt.file)
			}
			if len(rf.asked) != len(tt.asked) || (len(tt.asked) > 0 && rf.asked[0] != tt.asked[0]) {
				t.Errorf("Refusals asked with discover = %v, want %v", rf.asked, tt.asked)
			}
			if evs := got.Events(); len(evs) != 1 || evs[0].Loader != tt.loader || evs[0].BootFile != tt.file {
				t.Errorf("events %+v, want one with loader %s and boot file %s", evs, tt.loader, tt.file)
			}
			if tt.goldenOut != "" {
				checkGolden(t, filepath.Join("testdata", tt.goldenOut+".golden"), reply.Summary())
			}
		})
	}
}

// TestSecureBootHTTPBoot: under loader grub, UEFI HTTP Boot gets the URL
// of the Secure Boot disk image with option 60 HTTPClient
// (testdata/offer-httpclient-secureboot.golden).
func TestSecureBootHTTPBoot(t *testing.T) {
	inv := boot.NewInventory(testinv.Parse(t, "profiles: {demo: {kernel: vmlinuz, loader: grub}}\ndefault_profile: demo\n"))
	srv := boot.Server{Addr: serverAddr, HTTPPort: 8080, Has: func(string) bool { return true }}
	r := New(func() *boot.Inventory { return inv }, srv, nil, nil)
	reply := answer(r, 67, req(t, dhcpv4.MessageTypeDiscover, vendor("HTTPClient:Arch:00016:UNDI:003000", iana.EFI_X86_64_HTTP)...))
	if reply == nil {
		t.Fatal("no reply")
	}
	if want := "http://192.0.2.1:8080/assets/" + boot.SecureBootImage; reply.BootFileName != want {
		t.Errorf("file %q, want %q", reply.BootFileName, want)
	}
	checkGolden(t, filepath.Join("testdata", "offer-httpclient-secureboot.golden"), reply.Summary())
}
