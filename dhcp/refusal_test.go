package dhcp

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/golden"
	"github.com/rackboot/rackboot/timeline"
)

// TestRefusedIPXEFromTimeline runs the full server with the timeline as
// both its event sink and its Refusals, as serve does: a loader auto
// machine's UEFI firmware takes ipxe.efi (DISCOVER, REQUEST) and asks
// again 3 s later without iPXE ever asking: that DISCOVER and its REQUEST
// get Shim (the OFFER checked against testdata/offer-refused-ipxe.golden),
// and the machine's timeline counts the refusal.
func TestRefusedIPXEFromTimeline(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tl, err := timeline.New(timeline.Config{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	y := "dhcp:\n  subnets:" + testSubnets + "profiles:\n  demo: {kernel: vmlinuz, loader: auto}\nmachines:\n  - {mac: \"52:54:00:12:34:56\", ipv4: 192.0.2.50, profile: demo}\n"
	hc := testHandlerConfig(t, y)
	hc.Server.Has = func(string) bool { return true }
	hc.Now, hc.Events, hc.Refusals = clock, tl, tl
	h := mustHandler(t, hc)
	fw := pxe(iana.EFI_X86_64)
	asked := dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 0, 2, 50)))
	server := dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(192, 0, 2, 1)))
	steps := []struct {
		after time.Duration
		req   *dhcpv4.DHCPv4
		file  string
	}{
		{0, request(t, dhcpv4.MessageTypeDiscover, knownMAC, fw...), "ipxe.efi"},
		{100 * time.Millisecond, request(t, dhcpv4.MessageTypeRequest, knownMAC, append(fw, asked, server)...), "ipxe.efi"},
		{3 * time.Second, request(t, dhcpv4.MessageTypeDiscover, knownMAC, fw...), boot.ShimProgram},
		{100 * time.Millisecond, request(t, dhcpv4.MessageTypeRequest, knownMAC, append(fw, asked, server)...), boot.ShimProgram},
	}
	var refusedOffer *dhcpv4.DHCPv4
	for i, s := range steps {
		now = now.Add(s.after)
		reply := h.Handle(s.req)
		if reply == nil {
			t.Fatalf("step %d: no reply", i)
		}
		if reply.BootFileName != s.file {
			t.Errorf("step %d (%s): file field %q, want %q", i, s.req.MessageType(), reply.BootFileName, s.file)
		}
		if i == 2 {
			refusedOffer = reply
		}
	}
	golden.Check(t, filepath.Join("testdata", "offer-refused-ipxe.golden"), []byte(refusedOffer.Summary()))
	m, ok := tl.Machine(events.MACOf(knownMAC))
	if !ok || m.RefusedIPXE == nil || m.RefusedIPXE.Count != 1 || !m.RefusedIPXE.Active || m.RefusedIPXE.Program != "ipxe.efi" {
		t.Errorf("timeline refused_ipxe = %+v, want count 1, active, ipxe.efi", m.RefusedIPXE)
	}
}

// TestSecureBootHTTPBoot: in full mode, UEFI HTTP Boot under loader grub
// gets an address and the URL of the Secure Boot disk image with option
// 60 HTTPClient (testdata/offer-httpboot-secureboot.golden).
func TestSecureBootHTTPBoot(t *testing.T) {
	y := "dhcp:\n  subnets:" + testSubnets + "profiles:\n  demo: {kernel: vmlinuz, loader: grub}\nmachines:\n  - {mac: \"52:54:00:12:34:56\", ipv4: 192.0.2.50, profile: demo}\n"
	hc := testHandlerConfig(t, y)
	hc.Server.Has = func(string) bool { return true }
	hc.Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	h := mustHandler(t, hc)
	reply := h.Handle(request(t, dhcpv4.MessageTypeDiscover, knownMAC,
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("HTTPClient:Arch:00016:UNDI:003000")),
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.EFI_X86_64_HTTP))))
	if reply == nil {
		t.Fatal("no reply")
	}
	if want := "http://192.0.2.1:8080/assets/" + boot.SecureBootImage; reply.BootFileName != want {
		t.Errorf("file %q, want %q", reply.BootFileName, want)
	}
	golden.Check(t, filepath.Join("testdata", "offer-httpboot-secureboot.golden"), []byte(reply.Summary()))
}
