package timeline

import (
	"net"
	"path"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/events"
)

// Firmware that refuses iPXE. UEFI Secure Boot firmware that is handed
// unsigned iPXE loads it, refuses to start it ("Access Denied") and moves
// on to its next boot option, which asks DHCP again within seconds as
// firmware (class pxe or httpboot). Had iPXE run, it would have asked DHCP
// with user class "iPXE" or fetched its script. The timeline sees all of
// it per machine, so it tells (Store.RefusedIPXE, for loader auto), logs
// each refusal, records it as an event of the machine and shows it in the
// machine's summary (Machine.RefusedIPXE).

// RefusalWindow: a firmware DISCOVER this soon after the firmware took an
// iPXE build, with no sign of iPXE running between, is a refusal.
const RefusalWindow = 2 * time.Minute

// RefusedReason starts the Reason of a refusal's event.
const RefusedReason = "firmware refused iPXE"

// refusals is what the timeline follows of a machine to tell a refusal.
type refusals struct {
	// handed is when the firmware was last handed an iPXE build (0: not
	// since iPXE last ran or since a refusal); acked says it took it (a
	// REQUEST answered, or HTTP Boot, which takes the offer); program
	// names it.
	handed  int64
	acked   bool
	program string
	// count refusals were seen; the last at last, of lastProgram.
	count       int
	last        int64
	lastProgram string
	// active: a refusal was seen and iPXE has not run since.
	active bool
}

// due reports whether a firmware DISCOVER at t is a refusal.
func (r *refusals) due(t int64) bool {
	return r.handed != 0 && r.acked && t-r.handed <= int64(RefusalWindow)
}

// RefusedIPXE reports whether mac's firmware refused iPXE
// (dhcpwire.Refusals): a refusal was seen and iPXE has not run since, or,
// for a DISCOVER (discover true), this request is a new refusal, as of the
// store's clock. A nil store knows nothing (timeline.enabled: false).
func (s *Store) RefusedIPXE(mac net.HardwareAddr, discover bool) bool {
	if s == nil {
		return false
	}
	now := s.cfg.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[events.MACOf(mac)]
	if m == nil {
		return false
	}
	return m.refusals.active || (discover && m.refusals.due(now))
}

// followIPXE updates m's refusal state by ev, before ev is recorded. A
// firmware DISCOVER that is a refusal first records the refusal's own
// event (so it comes before the request that showed it) and, when live,
// logs it: the one write Emit does under the lock, at most once per
// firmware boot attempt. The caller holds the lock.
func (s *Store) followIPXE(m *machine, ev *events.Event, t int64, live bool) {
	r := &m.refusals
	switch {
	case isRefusal(ev): // just made below, or read back
		r.count++
		r.active, r.handed, r.last, r.lastProgram = true, 0, t, ev.BootFile
		return
	case ipxeRan(ev):
		r.handed, r.active = 0, false
		return
	case !firmwareDHCP(ev):
		return
	}
	if ev.Message == "DISCOVER" && r.due(t) {
		after := time.Duration(t - r.handed).Round(100 * time.Millisecond)
		ref := refusalEvent(ev, r.program, after, t)
		s.record(&ref, t, live)
		if live {
			s.log.WithFields(logrus.Fields{"mac": ev.MAC.String(), "program": r.lastProgram, "refusals": r.count, "class": ev.Class,
				"after": after.String()}).
				Warn("firmware refused iPXE: it asked again without running it (UEFI Secure Boot refuses unsigned iPXE); loader: auto gives it the signed chain, or set secure_boot: true or loader: grub")
		}
	}
	r.handedBy(ev, t)
}

// handedBy records what a firmware request was answered with: an iPXE
// build starts (or goes on) the watch, another program ends it, a reply
// with no boot file (an address only) leaves it.
func (r *refusals) handedBy(ev *events.Event, t int64) {
	if (ev.Reply != "OFFER" && ev.Reply != "ACK") || ev.BootFile == "" {
		return
	}
	if ev.Loader != "ipxe" {
		r.handed = 0
		return
	}
	if r.handed == 0 || r.program != ev.BootFile {
		r.acked = false
	}
	r.handed, r.program = t, ev.BootFile
	r.acked = r.acked || ev.Message == "REQUEST" || ev.Class == "httpboot"
}

// refusalEvent is the event that records a refusal of program, shown by
// ev after it was handed.
func refusalEvent(ev *events.Event, program string, after time.Duration, t int64) events.Event {
	return events.Event{
		Time: time.Unix(0, t), MAC: ev.MAC, Kind: ev.Kind, Message: ev.Message, Class: ev.Class,
		Arch: ev.Arch, HasArch: ev.HasArch, BootFile: program,
		Reason: RefusedReason + ": asked again " + after.String() + " after taking " + path.Base(program) +
			", and iPXE never asked: the firmware refused it (Secure Boot?)",
	}
}

// isRefusal reports whether ev is a refusal's event.
func isRefusal(ev *events.Event) bool {
	return (ev.Kind == events.KindDHCP || ev.Kind == events.KindProxyDHCP) && ev.Reply == "" &&
		strings.HasPrefix(ev.Reason, RefusedReason+":")
}

// firmwareDHCP reports whether ev is a DHCP exchange of UEFI/PXE firmware.
func firmwareDHCP(ev *events.Event) bool {
	return (ev.Kind == events.KindDHCP || ev.Kind == events.KindProxyDHCP) && (ev.Class == "pxe" || ev.Class == "httpboot")
}

// ipxeRan reports whether ev shows iPXE running: a DHCP request with user
// class iPXE, or iPXE's script fetched.
func ipxeRan(ev *events.Event) bool {
	switch ev.Kind {
	case events.KindDHCP, events.KindProxyDHCP:
		return ev.Class == "ipxe"
	case events.KindHTTP:
		name := assetName(ev.File)
		return ev.Error == "" && ev.Status < 400 && (name == "boot.ipxe" || name == "ipxe")
	}
	return false
}

// IPXERefusals is what a machine's summary says of its firmware refusing
// iPXE.
type IPXERefusals struct {
	// Count refusals were seen; the last at Last, of Program.
	Count   int       `json:"count"`
	Last    time.Time `json:"last"`
	Program string    `json:"program"`
	// Active: iPXE has not run since, so loader auto gives the machine's
	// firmware the signed chain.
	Active bool `json:"active"`
}

// summary is r for the API; nil when no refusal was seen.
func (r *refusals) summary() *IPXERefusals {
	if r.count == 0 {
		return nil
	}
	return &IPXERefusals{Count: r.count, Last: time.Unix(0, r.last).UTC(), Program: r.lastProgram, Active: r.active}
}
