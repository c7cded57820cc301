// Package handoff follows each client from the boot program rackboot
// handed it to its next request, and tells when the firmware refused the
// program: UEFI Secure Boot firmware that gets unsigned iPXE loads it,
// refuses to start it ("Access Denied") and moves on to its next boot
// option, which asks DHCP again within seconds, never having run iPXE
// (which would have asked with user class "iPXE"). loader: auto then gets
// the signed chain (boot.Facts.RefusedIPXE). It is a dhcpwire.Watcher; the
// refusals it sees go to the machine's timeline through an events.Sink.
package handoff

import (
	"net"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/logx"
)

// Defaults of Options.
const (
	// DefaultWindow: a firmware request this soon after iPXE was handed,
	// with no iPXE request between, is a refusal.
	DefaultWindow = 2 * time.Minute
	// DefaultMaxClients bounds the clients followed; the one seen least
	// recently is forgotten first.
	DefaultMaxClients = 4096
)

// RefusedReason starts the Reason of the timeline event of a refusal.
const RefusedReason = "firmware refused iPXE"

// Options configure a Tracker; zero values take the defaults.
type Options struct {
	Window     time.Duration
	MaxClients int
	Now        func() time.Time
	Log        logrus.FieldLogger
	// Sink, when set, receives an event of Kind for every refusal, so
	// that it shows in the machine's timeline (package timeline).
	Sink events.Sink
	Kind events.Kind
}

// Tracker follows clients by MAC. It is safe for concurrent use.
type Tracker struct {
	window time.Duration
	max    int
	now    func() time.Time
	log    logrus.FieldLogger
	sink   events.Sink
	kind   events.Kind

	mu      sync.Mutex
	clients map[string]*client
}

// client is one MAC's state.
type client struct {
	seen time.Time
	// handed is when an iPXE build was last handed (zero: not since
	// iPXE last ran); acked says the firmware took it (REQUEST, or HTTP
	// Boot, which takes the offer), program which.
	handed   time.Time
	acked    bool
	program  string
	refusals int
	// refused: a refusal was seen and iPXE has not run since.
	refused bool
}

var _ dhcpwire.Watcher = (*Tracker)(nil)

// New returns a Tracker.
func New(o Options) *Tracker {
	t := &Tracker{window: o.Window, max: o.MaxClients, now: o.Now, log: logx.OrDiscard(o.Log), sink: o.Sink, kind: o.Kind, clients: map[string]*client{}}
	if t.window <= 0 {
		t.window = DefaultWindow
	}
	if t.max <= 0 {
		t.max = DefaultMaxClients
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t
}

// Amend marks a firmware request as from a client that refused iPXE
// (f.RefusedIPXE): a DISCOVER that comes less than the window after the
// client took an iPXE build, with no iPXE request between, is a new
// refusal; the mark then stays on every request of that client until iPXE
// is seen running, so that the OFFER and the ACK agree and a firmware
// that retries later gets the same answer.
func (t *Tracker) Amend(mt dhcpv4.MessageType, f *boot.Facts) {
	if t == nil || f.MAC == nil || (f.Class != boot.ClassPXE && f.Class != boot.ClassHTTP) {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[f.MAC.String()]
	if c == nil {
		return
	}
	if mt == dhcpv4.MessageTypeDiscover && !c.handed.IsZero() && c.acked && now.Sub(c.handed) <= t.window {
		t.refusal(c, f, mt, now)
	}
	f.RefusedIPXE = c.refused
}

// refusal records a refusal of c's iPXE build and logs it.
func (t *Tracker) refusal(c *client, f *boot.Facts, mt dhcpv4.MessageType, now time.Time) {
	c.refusals++
	c.refused = true
	ago := now.Sub(c.handed).Round(100 * time.Millisecond)
	note := "asked again " + ago.String() + " after taking " + c.program + ", and iPXE never asked: the firmware refused it (Secure Boot?)"
	if t.sink != nil {
		t.sink.Emit(events.Event{Time: now, MAC: events.MACOf(f.MAC), Kind: t.kind, Message: mt.String(), Class: f.Class.String(),
			Arch: uint16(f.Arch), HasArch: f.HasArch, BootFile: c.program, Reason: RefusedReason + ": " + note})
	}
	c.handed = time.Time{}
	t.log.WithFields(logrus.Fields{"mac": f.MAC.String(), "program": c.program, "after": ago.String(), "refusals": c.refusals, "class": f.Class.String()}).
		Warn("firmware refused iPXE: it asked again without running it (UEFI Secure Boot refuses unsigned iPXE); loader: auto gives it the signed chain, or set secure_boot: true or loader: grub")
}

// Decided records what the client was handed, and iPXE's requests.
func (t *Tracker) Decided(mt dhcpv4.MessageType, f boot.Facts, d boot.Decision) {
	if t == nil || f.MAC == nil {
		return
	}
	n := d.Next
	handed := n.Step == boot.StepTFTP || n.Step == boot.StepHTTPProgram
	if !handed && f.Class != boot.ClassIPXE {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.client(f.MAC, now)
	switch {
	case f.Class == boot.ClassIPXE:
		c.handed, c.refused = time.Time{}, false
	case n.Loader == config.LoaderIPXE:
		if c.handed.IsZero() || c.program != n.Program {
			c.acked = false
		}
		c.handed, c.program = now, n.Program
		c.acked = c.acked || mt == dhcpv4.MessageTypeRequest || f.Class == boot.ClassHTTP
	default:
		c.handed = time.Time{}
	}
}

// refusalCount returns how many refusals of iPXE the tracker saw from mac.
func (t *Tracker) refusalCount(mac net.HardwareAddr) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.clients[mac.String()]; c != nil {
		return c.refusals
	}
	return 0
}

// client returns mac's state, making room for it when it is new.
func (t *Tracker) client(mac net.HardwareAddr, now time.Time) *client {
	k := mac.String()
	c := t.clients[k]
	if c == nil {
		if len(t.clients) >= t.max {
			t.forgetOldest()
		}
		c = &client{}
		t.clients[k] = c
	}
	c.seen = now
	return c
}

// forgetOldest drops the client seen least recently.
func (t *Tracker) forgetOldest() {
	var oldest string
	var at time.Time
	for k, c := range t.clients {
		if oldest == "" || c.seen.Before(at) {
			oldest, at = k, c.seen
		}
	}
	delete(t.clients, oldest)
}
