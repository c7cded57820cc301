package timeline

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/rackboot/rackboot/events"
)

// What a DHCP server hands a firmware request in the refusal scenarios.
type handed int

const (
	handIPXE     handed = iota // ipxe.efi over TFTP (loader ipxe)
	handIPXEHTTP               // ipxe.efi's URL (HTTP Boot, loader ipxe)
	handShim                   // the signed chain (loader grub)
	handScript                 // iPXE's script URL (the client is iPXE)
	handAddress                // an address, no boot file
)

// req is one request of a scenario, seconds after the start: the
// client's message and class and what it is answered with. fetch, when
// set, is an HTTP path the machine fetched instead of a DHCP request.
type req struct {
	at    float64
	msg   string
	class string
	hand  handed
	fetch string
}

// play runs the requests as a DHCP server and the HTTP server would: for
// each DHCP request it first asks RefusedIPXE (as dhcpwire.Decide does for
// firmware), then emits the exchange's event. It returns, per request,
// what RefusedIPXE said.
func play(t *testing.T, s *Store, c *clock, kind events.Kind, mac events.MAC, reqs []req) []bool {
	t.Helper()
	start := c.Now()
	var got []bool
	for _, r := range reqs {
		c.t = start.Add(time.Duration(r.at * float64(time.Second)))
		if r.fetch != "" {
			s.Emit(events.Event{Time: c.Now(), MAC: mac, Kind: events.KindHTTP, File: r.fetch, Status: 200, Step: events.StepScript})
			got = append(got, false)
			continue
		}
		refused := false
		if r.class == "pxe" || r.class == "httpboot" {
			refused = s.RefusedIPXE(net.HardwareAddr(mac[:]), r.msg == "DISCOVER")
		}
		got = append(got, refused)
		reply := map[string]string{"DISCOVER": "OFFER", "REQUEST": "ACK"}[r.msg]
		ev := events.Event{Time: c.Now(), MAC: mac, Kind: kind, Message: r.msg, Reply: reply, Class: r.class, Arch: 7, HasArch: true}
		switch r.hand {
		case handIPXE:
			ev.BootFile, ev.Loader = "ipxe.efi", "ipxe"
		case handIPXEHTTP:
			ev.BootFile, ev.Loader, ev.Arch = "http://192.0.2.1:8080/assets/ipxe.efi", "ipxe", 16
		case handShim:
			ev.BootFile, ev.Loader = "secureboot/shimx64.efi", "grub"
		case handScript:
			ev.BootFile, ev.Loader = "http://192.0.2.1:8080/boot.ipxe", "ipxe"
		}
		s.Emit(ev)
	}
	return got
}

func TestRefusedIPXE(t *testing.T) {
	tests := []struct {
		name string
		reqs []req
		want []bool
	}{
		{"iPXE ran: no refusal", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 5, msg: "DISCOVER", class: "ipxe", hand: handScript}, {at: 5.1, msg: "REQUEST", class: "ipxe", hand: handScript},
			{at: 60, msg: "DISCOVER", class: "pxe", hand: handIPXE},
		}, []bool{false, false, false, false, false}},
		{"iPXE fetched its script (a DHCP server that is not rackboot answered iPXE): no refusal", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 4, fetch: "/ipxe?mac=52:54:00:12:34:56&platform=efi"},
			{at: 30, msg: "DISCOVER", class: "pxe", hand: handIPXE},
		}, []bool{false, false, false, false}},
		{"PXE refused, HTTP Boot asks next, then PXE again", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 8, msg: "DISCOVER", class: "httpboot", hand: handAddress},
			{at: 20, msg: "DISCOVER", class: "pxe", hand: handShim}, {at: 20.1, msg: "REQUEST", class: "pxe", hand: handShim},
		}, []bool{false, false, true, true, true}},
		{"loader ipxe keeps handing iPXE: each firmware attempt is a refusal", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 8, msg: "DISCOVER", class: "httpboot", hand: handIPXEHTTP}, {at: 8.1, msg: "REQUEST", class: "httpboot", hand: handIPXEHTTP},
			{at: 20, msg: "DISCOVER", class: "pxe", hand: handIPXE},
		}, []bool{false, false, true, true, true}},
		{"the mark stays until iPXE runs", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 6, msg: "DISCOVER", class: "pxe", hand: handShim}, {at: 6.1, msg: "REQUEST", class: "pxe", hand: handShim},
			{at: 900, msg: "DISCOVER", class: "pxe", hand: handShim},
			{at: 901, msg: "DISCOVER", class: "ipxe", hand: handScript},
			{at: 902, msg: "DISCOVER", class: "pxe", hand: handIPXE},
		}, []bool{false, false, true, true, true, false, false}},
		{"the mark stays through the signed chain's own fetches", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 6, msg: "DISCOVER", class: "pxe", hand: handShim}, {at: 6.1, msg: "REQUEST", class: "pxe", hand: handShim},
			{at: 10, fetch: "/grub?mac=52:54:00:12:34:56"},
			{at: 3600, msg: "DISCOVER", class: "pxe", hand: handShim},
		}, []bool{false, false, true, true, false, true}},
		{"a DISCOVER sent again before any REQUEST is no refusal", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 4, msg: "DISCOVER", class: "pxe", hand: handIPXE},
		}, []bool{false, false}},
		{"asked again after the window", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 121, msg: "DISCOVER", class: "pxe", hand: handIPXE},
		}, []bool{false, false, false}},
		{"the REQUEST after a refused DISCOVER is no second refusal, but agrees", []req{
			{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
			{at: 8, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 8.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
		}, []bool{false, false, true, true}},
		{"HTTP Boot takes the offer: no REQUEST needed", []req{
			{at: 0, msg: "DISCOVER", class: "httpboot", hand: handIPXEHTTP},
			{at: 5, msg: "DISCOVER", class: "pxe", hand: handShim},
		}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := newStore(t, c, Config{})
			got := play(t, s, c, events.KindDHCP, mac1, tt.reqs)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("RefusedIPXE per request (-want +got):\n-%v\n+%v", tt.want, got)
					break
				}
			}
		})
	}
}

// TestRefusalRecorded: a refusal is an event of the machine, before the
// request that showed it, of the server that saw it, with the reason;
// the summary counts it; the log says it once.
func TestRefusalRecorded(t *testing.T) {
	c := newClock()
	log, hook := logtest.NewNullLogger()
	s := newStore(t, c, Config{Log: log})
	play(t, s, c, events.KindProxyDHCP, mac1, []req{
		{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
		{at: 3, msg: "DISCOVER", class: "httpboot", hand: handAddress},
		{at: 9, msg: "DISCOVER", class: "pxe", hand: handShim},
	})
	m, ok := s.Machine(mac1)
	if !ok {
		t.Fatal("machine not in the timeline")
	}
	var refusals []Entry
	at := -1
	for i, e := range m.Events {
		if strings.HasPrefix(e.Reason, RefusedReason) {
			refusals, at = append(refusals, e), i
		}
	}
	if len(refusals) != 1 {
		t.Fatalf("%d refusal events, want 1: %+v", len(refusals), m.Events)
	}
	e := refusals[0]
	wantReason := RefusedReason + ": asked again 2.9s after taking ipxe.efi, and iPXE never asked: the firmware refused it (Secure Boot?)"
	if e.Kind != "proxydhcp" || e.Message != "DISCOVER" || e.Class != "httpboot" || e.File != "ipxe.efi" || e.Reply != "" || e.Reason != wantReason {
		t.Errorf("refusal event %+v\nwant kind proxydhcp, DISCOVER, httpboot, file ipxe.efi, no reply, reason %q", e, wantReason)
	}
	if next := m.Events[at+1]; next.Message != "DISCOVER" || next.Class != "httpboot" || next.Reply != "OFFER" {
		t.Errorf("the refusal is not just before the DISCOVER that showed it: next is %+v", next)
	}
	want := IPXERefusals{Count: 1, Last: e.Time, Program: "ipxe.efi", Active: true}
	if m.RefusedIPXE == nil || *m.RefusedIPXE != want {
		t.Errorf("summary refused_ipxe = %+v, want %+v", m.RefusedIPXE, want)
	}
	var warned []*logrus.Entry
	for _, l := range hook.AllEntries() {
		if strings.HasPrefix(l.Message, "firmware refused iPXE") {
			warned = append(warned, l)
		}
	}
	if len(warned) != 1 || warned[0].Level != logrus.WarnLevel || warned[0].Data["mac"] != mac1.String() ||
		warned[0].Data["after"] != "2.9s" || warned[0].Data["refusals"] != 1 {
		t.Errorf("log: want one warning with mac, after 2.9s, refusals 1; got %d: %+v", len(warned), warned)
	}
}

// TestRefusalClearedSummary: once iPXE runs, the summary keeps the count
// but is no longer active.
func TestRefusalClearedSummary(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{})
	play(t, s, c, events.KindDHCP, mac1, []req{
		{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
		{at: 5, msg: "DISCOVER", class: "pxe", hand: handShim},
		{at: 600, fetch: "/boot.ipxe"},
	})
	m, _ := s.Machine(mac1)
	if m.RefusedIPXE == nil || m.RefusedIPXE.Count != 1 || m.RefusedIPXE.Active {
		t.Errorf("refused_ipxe = %+v, want count 1, not active", m.RefusedIPXE)
	}
	if m2, _ := s.Machine(mac2); m2.RefusedIPXE != nil {
		t.Errorf("a machine never seen has refused_ipxe %+v", m2.RefusedIPXE)
	}
}

// TestRefusalForgotten: a machine the bounded store dropped is no longer
// followed, so its next request is no refusal.
func TestRefusalForgotten(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{MaxMachines: 2})
	for i := byte(1); i <= 3; i++ {
		mac := events.MAC{2, 0, 0, 0, 0, i}
		play(t, s, c, events.KindDHCP, mac, []req{{at: 0, msg: "REQUEST", class: "pxe", hand: handIPXE}})
	}
	c.Add(time.Second)
	for _, tt := range []struct {
		mac  events.MAC
		want bool
	}{{events.MAC{2, 0, 0, 0, 0, 1}, false}, {events.MAC{2, 0, 0, 0, 0, 3}, true}} {
		if got := s.RefusedIPXE(net.HardwareAddr(tt.mac[:]), true); got != tt.want {
			t.Errorf("%s: RefusedIPXE = %v, want %v", tt.mac, got, tt.want)
		}
	}
}

// TestRefusedIPXENil: with the timeline off there is no store, and it
// knows of no refusal.
func TestRefusedIPXENil(t *testing.T) {
	var s *Store
	if s.RefusedIPXE(net.HardwareAddr{2, 0, 0, 0, 0, 1}, true) {
		t.Error("a nil store reported a refusal")
	}
}

// TestRefusalReadBack: the refusal's event is kept with the machine's
// boot in Dir, and a store that reads it back at start knows the
// refusal (loader auto still answers with the signed chain) without
// logging it again.
func TestRefusalReadBack(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := newStore(t, c, Config{Dir: dir})
	play(t, s, c, events.KindDHCP, mac1, []req{
		{at: 0, msg: "DISCOVER", class: "pxe", hand: handIPXE}, {at: 0.1, msg: "REQUEST", class: "pxe", hand: handIPXE},
		{at: 3, msg: "DISCOVER", class: "httpboot", hand: handAddress},
	})
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	log, hook := logtest.NewNullLogger()
	again := newStore(t, c, Config{Dir: dir, Log: log})
	m, ok := again.Machine(mac1)
	if !ok || m.RefusedIPXE == nil || m.RefusedIPXE.Count != 1 || !m.RefusedIPXE.Active {
		t.Fatalf("read back: refused_ipxe = %+v, want count 1, active", m.RefusedIPXE)
	}
	if !again.RefusedIPXE(net.HardwareAddr(mac1[:]), false) {
		t.Error("read back: RefusedIPXE is false for the machine's next request")
	}
	for _, e := range hook.AllEntries() {
		if strings.HasPrefix(e.Message, "firmware refused iPXE") {
			t.Errorf("reading back logged the refusal again: %s", e.Message)
		}
	}
}
