package dhcp

import (
	"net"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/events"
)

func TestEvents(t *testing.T) {
	hc := testHandlerConfig(t, testYAML("", testSubnets))
	hc.Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	var got events.Collector
	hc.Events = &got
	h := mustHandler(t, hc)
	known := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	h.Handle(request(t, dhcpv4.MessageTypeDiscover, known, pxe(iana.EFI_X86_64)...))
	h.Handle(request(t, dhcpv4.MessageTypeRequest, known, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 0, 2, 60)))))
	stranger := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	h.Handle(request(t, dhcpv4.MessageTypeDiscover, stranger, pxe(iana.EFI_X86_64)...))
	evs := got.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(evs), evs)
	}
	offer, nak, unknown := evs[0], evs[1], evs[2]
	if offer.Kind != events.KindDHCP || offer.MAC.String() != "52:54:00:12:34:56" || offer.Message != "DISCOVER" ||
		offer.Reply != "OFFER" || offer.Addr.String() != "192.0.2.50" || offer.Class != "pxe" || !offer.HasArch || offer.Arch != 7 ||
		offer.BootFile != "ipxe.efi" || offer.Profile != "demo" || offer.Via != "machine" || offer.Hostname != "node1" || offer.Time.IsZero() {
		t.Errorf("offer event = %+v", offer)
	}
	if nak.Reply != "NAK" || nak.Reason == "" {
		t.Errorf("nak event = %+v", nak)
	}
	if unknown.Reply != "OFFER" || unknown.BootFile != "" || unknown.Profile != "" || unknown.Reason == "" {
		t.Errorf("an unknown machine without a default profile: %+v", unknown)
	}
}

// TestNoEvents: without a sink nothing is built (and nothing panics).
func TestNoEvents(t *testing.T) {
	h := testHandler(t, "demo", nil)
	req := request(t, dhcpv4.MessageTypeDiscover, net.HardwareAddr{2, 0, 0, 0, 0, 1})
	if r := h.Handle(req); r == nil {
		t.Fatal("no offer")
	}
}

func TestUsage(t *testing.T) {
	h := testHandler(t, "demo", nil)
	before := h.Usage()
	if len(before) == 0 || before[0].InUse != 0 || before[0].Free != before[0].Size || before[0].Size == 0 {
		t.Fatalf("usage before any lease = %+v", before)
	}
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 7}
	o := h.Handle(request(t, dhcpv4.MessageTypeDiscover, mac))
	if u := h.Usage()[0]; u.Offered != 1 || u.Free != u.Size-1 {
		t.Errorf("after an OFFER: %+v", u)
	}
	h.Handle(request(t, dhcpv4.MessageTypeRequest, mac, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(o.YourIPAddr)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverAddr.AsSlice()))))
	if u := h.Usage()[0]; u.InUse != 1 || u.Offered != 0 || u.Free != u.Size-1 || u.CIDR.String() != "192.0.2.0/24" {
		t.Errorf("after an ACK: %+v", u)
	}
}
