package handoff

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/events"
)

var mac = net.HardwareAddr{2, 0, 0, 0, 0, 1}

const (
	disc = dhcpv4.MessageTypeDiscover
	req  = dhcpv4.MessageTypeRequest
)

// step is one request of a scenario: the client's class and message,
// what rackboot decided, and the seconds since the start.
type step struct {
	at    float64
	mt    dhcpv4.MessageType
	class boot.Class
	next  boot.Next
}

var (
	ipxeEFI  = boot.Next{Step: boot.StepTFTP, Program: "ipxe.efi", Loader: "ipxe"}
	ipxeHTTP = boot.Next{Step: boot.StepHTTPProgram, Program: "ipxe.efi", URL: "http://x/assets/ipxe.efi", Loader: "ipxe"}
	shim     = boot.Next{Step: boot.StepTFTP, Program: "secureboot/shimx64.efi", Loader: "grub"}
	script   = boot.Next{Step: boot.StepScript, URL: "http://x/boot.ipxe", Loader: "ipxe"}
)

// run plays steps and returns, per step, whether Amend saw a refusal.
func run(t *testing.T, tr *Tracker, clock *time.Time, start time.Time, steps []step) []bool {
	t.Helper()
	var got []bool
	for _, s := range steps {
		*clock = start.Add(time.Duration(s.at * float64(time.Second)))
		f := boot.Facts{MAC: mac, Class: s.class, Arch: 7, HasArch: true}
		tr.Amend(s.mt, &f)
		got = append(got, f.RefusedIPXE)
		tr.Decided(s.mt, f, boot.Decision{Next: s.next})
	}
	return got
}

func TestRefusal(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  []bool
	}{
		{"iPXE ran: no refusal", []step{
			{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
			{5, disc, boot.ClassIPXE, script}, {5.1, req, boot.ClassIPXE, script},
			{60, disc, boot.ClassPXE, ipxeEFI},
		}, []bool{false, false, false, false, false}},
		{"PXE refused, HTTP Boot asks next, then PXE again", []step{
			{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
			{8, disc, boot.ClassHTTP, ipxeHTTP}, {8.1, req, boot.ClassHTTP, ipxeHTTP},
			{20, disc, boot.ClassPXE, ipxeEFI},
		}, []bool{false, false, true, true, true}},
		{"the mark stays until iPXE runs", []step{
			{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
			{6, disc, boot.ClassPXE, shim}, {6.1, req, boot.ClassPXE, shim},
			{900, disc, boot.ClassPXE, shim},
			{901, disc, boot.ClassIPXE, script},
			{902, disc, boot.ClassPXE, ipxeEFI},
		}, []bool{false, false, true, true, true, false, false}},
		{"refused, then loader auto hands the signed chain: the REQUEST agrees", []step{
			{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
			{6, disc, boot.ClassPXE, shim}, {6.1, req, boot.ClassPXE, shim},
		}, []bool{false, false, true, true}},
		{"a DISCOVER sent again before any REQUEST is no refusal", []step{
			{0, disc, boot.ClassPXE, ipxeEFI}, {4, disc, boot.ClassPXE, ipxeEFI},
		}, []bool{false, false}},
		{"asked again after the window", []step{
			{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
			{121, disc, boot.ClassPXE, ipxeEFI},
		}, []bool{false, false, false}},
		{"the REQUEST after a refused DISCOVER is no second refusal", []step{
			{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
			{8, disc, boot.ClassPXE, ipxeEFI}, {8.1, req, boot.ClassPXE, ipxeEFI},
		}, []bool{false, false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
			clock := start
			tr := New(Options{Now: func() time.Time { return clock }})
			got := run(t, tr, &clock, start, tt.steps)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("refusals (-want +got):\n-%v\n+%v", tt.want, got)
					break
				}
			}
		})
	}
}

// TestRefusals: the tracker counts the refusals seen from a MAC.
func TestRefusals(t *testing.T) {
	start := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	clock := start
	tr := New(Options{Now: func() time.Time { return clock }})
	if n := tr.refusalCount(mac); n != 0 {
		t.Fatalf("refusals of a MAC never seen: %d", n)
	}
	run(t, tr, &clock, start, []step{
		{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
		{6, disc, boot.ClassHTTP, ipxeHTTP}, {6.1, req, boot.ClassHTTP, ipxeHTTP},
		{9, disc, boot.ClassPXE, ipxeEFI},
	})
	if n := tr.refusalCount(mac); n != 2 {
		t.Errorf("refusals = %d, want 2", n)
	}
}

// TestBounded: the tracker forgets the client seen least recently, so a
// forgotten client's next request is no refusal.
func TestBounded(t *testing.T) {
	start := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	clock := start
	tr := New(Options{MaxClients: 2, Now: func() time.Time { return clock }})
	first := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for i := byte(1); i <= 3; i++ {
		clock = clock.Add(time.Second)
		f := boot.Facts{MAC: net.HardwareAddr{2, 0, 0, 0, 0, i}, Class: boot.ClassPXE}
		tr.Decided(req, f, boot.Decision{Next: ipxeEFI})
	}
	for _, tt := range []struct {
		mac  net.HardwareAddr
		want bool
	}{{first, false}, {net.HardwareAddr{2, 0, 0, 0, 0, 3}, true}} {
		f := boot.Facts{MAC: tt.mac, Class: boot.ClassPXE}
		tr.Amend(disc, &f)
		if f.RefusedIPXE != tt.want {
			t.Errorf("%s: refused = %v, want %v", tt.mac, f.RefusedIPXE, tt.want)
		}
	}
}

// sinkFunc adapts a function to events.Sink.
type sinkFunc func(events.Event)

func (f sinkFunc) Emit(e events.Event) { f(e) }

// TestRefusalEvent: a refusal goes to the sink as one event of the
// configured kind, with the reason, for the machine's timeline.
func TestRefusalEvent(t *testing.T) {
	start := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	clock := start
	var got []events.Event
	tr := New(Options{Now: func() time.Time { return clock }, Kind: events.KindProxyDHCP,
		Sink: sinkFunc(func(e events.Event) { got = append(got, e) })})
	run(t, tr, &clock, start, []step{
		{0, disc, boot.ClassPXE, ipxeEFI}, {0.1, req, boot.ClassPXE, ipxeEFI},
		{3, disc, boot.ClassHTTP, ipxeHTTP}, {3.1, req, boot.ClassHTTP, ipxeHTTP},
	})
	if len(got) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(got), got)
	}
	e := got[0]
	if e.Kind != events.KindProxyDHCP || e.MAC != events.MACOf(mac) || e.Message != "DISCOVER" || e.Class != "httpboot" ||
		e.BootFile != "ipxe.efi" || !strings.HasPrefix(e.Reason, RefusedReason+": asked again 2.9s after taking ipxe.efi") {
		t.Errorf("event %+v", e)
	}
}
