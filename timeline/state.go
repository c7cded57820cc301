package timeline

import (
	"path"
	"strings"

	"github.com/rackboot/rackboot/events"
)

// State is where a machine is in its boot. The mid-boot states come in
// order; a machine only moves forward until it starts a new boot.
type State string

// States of a machine (docs/observe.md draws the machine).
const (
	StateNone       State = ""             // in the inventory, never seen
	StateDiscovered State = "discovered"   // it asked (DHCP), nothing given yet
	StateDHCP       State = "dhcp"         // it got an address or boot information
	StateProgram    State = "boot program" // it loaded a boot program (TFTP or HTTP)
	StateScript     State = "script"       // it loaded its iPXE script or pxelinux.cfg
	StateKernel     State = "kernel"       // it loaded its kernel
	StateInitrd     State = "initrd"       // it loaded its initrd
	StateBooted     State = "booted"       // the booted system reported booted
	StateFailed     State = "failed"       // the booted system reported failed
	StateStalled    State = "stalled"      // no request for Config.StallAfter mid-boot
)

// rank orders the mid-boot states; terminal states rank above them.
func (s State) rank() int {
	switch s {
	case StateDiscovered:
		return 1
	case StateDHCP:
		return 2
	case StateProgram:
		return 3
	case StateScript:
		return 4
	case StateKernel:
		return 5
	case StateInitrd:
		return 6
	case StateBooted, StateFailed:
		return 7
	}
	return 0
}

// midBoot reports whether a machine in s is expected to ask for more.
func (s State) midBoot() bool { r := s.rank(); return r >= 1 && r <= 6 }

// terminal reports whether s ends a boot.
func (s State) terminal() bool { return s == StateBooted || s == StateFailed }

// stepState is the state a successful download of step puts a machine in.
func stepState(s events.Step) State {
	switch s {
	case events.StepProgram:
		return StateProgram
	case events.StepScript:
		return StateScript
	case events.StepKernel:
		return StateKernel
	case events.StepInitrd:
		return StateInitrd
	}
	return StateNone
}

// apply moves m on by one event; it reports whether the event ended a
// boot (booted or failed) so that the store can count it.
func (m *machine) apply(r *record, ev *events.Event) (ended bool) {
	if m.firstSeen == 0 {
		m.firstSeen = r.t
	}
	m.lastSeen = r.t
	m.stalled = false
	if a := ev.Addr.Unmap(); a.IsValid() {
		m.addr = a
	}
	switch ev.Kind {
	case events.KindDHCP, events.KindProxyDHCP:
		m.dhcp(r, ev)
	case events.KindTFTP, events.KindHTTP:
		m.download(r, ev)
	case events.KindReport:
		return m.report(r, ev)
	}
	return false
}

// dhcp records an exchange. A firmware DISCOVER after the kernel was
// loaded (or after the boot ended) starts a new boot; an operating
// system's own DHCP (class plain) never does.
func (m *machine) dhcp(r *record, ev *events.Event) {
	firmware := ev.Class != "" && ev.Class != "plain"
	if firmware {
		m.class, m.arch, m.hasArch = ev.Class, ev.Arch, ev.HasArch
	}
	if ev.Hostname != "" {
		m.hostname = ev.Hostname
	}
	if firmware && ev.Message == "DISCOVER" && (m.state == StateNone || m.state.rank() >= StateKernel.rank()) {
		m.newBoot(r.t)
	}
	if m.state == StateNone {
		m.newBoot(r.t)
	}
	if ev.Profile != "" {
		m.profile, m.via, m.group = r.profile, r.via, r.group
	}
	if ev.BootFile != "" {
		m.bootFile = r.file
	}
	switch {
	case ev.Reply == "" || ev.Reply == "NAK":
		if ev.Reason != "" && m.state == StateDiscovered {
			m.detail = r.reason
		}
	case firmware && m.state.rank() < StateDHCP.rank():
		m.state, m.detail = StateDHCP, ""
	}
}

// newBoot starts a boot at t.
func (m *machine) newBoot(t int64) {
	m.state, m.bootStart, m.bootEnd, m.detail, m.lastError = StateDiscovered, t, 0, "", ""
	m.boots++
	m.bootSeq = m.seq - 1 // the event that began it is the current one
}

// download records a TFTP transfer or an HTTP request and moves the
// machine to the step it was, when it succeeded.
func (m *machine) download(r *record, ev *events.Event) {
	if ev.Kernel != "" || ev.Initrd != "" {
		m.kernel, m.initrd = ev.Kernel, ev.Initrd
	}
	if ev.Profile != "" {
		m.profile, m.via, m.group = r.profile, r.via, r.group
	}
	step := ev.Step
	if step == events.StepUnknown {
		step = m.classify(ev.File)
		r.step = step
	}
	if ev.Error != "" || ev.Status >= 400 {
		m.lastError = describeFailure(ev)
		return
	}
	if m.state == StateNone {
		m.newBoot(r.t)
	}
	if st := stepState(step); st.rank() > m.state.rank() && !m.state.terminal() {
		m.state = st
	}
}

// describeFailure says in words what went wrong with a download.
func describeFailure(ev *events.Event) string {
	what := ev.Kind.String() + " " + ev.File
	if ev.Error != "" {
		return what + ": " + ev.Error
	}
	return what + ": HTTP status " + itoa(ev.Status)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// report records what the booted system said.
func (m *machine) report(r *record, ev *events.Event) bool {
	switch State(ev.State) {
	case StateBooted:
		m.state, m.detail = StateBooted, r.reason
	case StateFailed:
		m.state, m.detail = StateFailed, r.reason
		if m.detail == "" {
			m.detail = "the system reported failed"
		}
	default:
		return false
	}
	if m.bootStart == 0 {
		m.bootStart = r.t
	}
	m.bootEnd = r.t
	return true
}

// bootPrograms are the names of the boot programs rackboot hands out.
var bootPrograms = map[string]bool{
	"undionly.kpxe": true, "ipxe.efi": true, "snponly.efi": true, "ipxe-i386.efi": true,
	"ipxe-arm32.efi": true, "ipxe-arm64.efi": true, "pxelinux.0": true, "lpxelinux.0": true, "ldlinux.c32": true,
}

// classify says what a file a machine fetched is: its boot program (the
// one DHCP gave it, or any known one), a pxelinux.cfg file, its profile's
// kernel or initrd, or, when the profile is not known, by order: the
// first file after the script is the kernel, the ones after it initrds.
func (m *machine) classify(file string) events.Step {
	name := assetName(file)
	base := path.Base(name)
	switch {
	case name == "":
		return events.StepUnknown
	case strings.HasPrefix(name, "pxelinux.cfg/"):
		return events.StepScript
	case m.bootFile != "" && base == path.Base(assetName(m.bootFile)) && m.state.rank() < StateScript.rank():
		return events.StepProgram
	case bootPrograms[base]:
		return events.StepProgram
	case m.kernel != "" && sameFile(name, m.kernel):
		return events.StepKernel
	case m.initrd != "" && anySame(name, m.initrd):
		return events.StepInitrd
	case m.kernel == "" && m.state == StateScript:
		return events.StepKernel
	case m.kernel == "" && (m.state == StateKernel || m.state == StateInitrd):
		return events.StepInitrd
	}
	return events.StepUnknown
}

// assetName reduces a TFTP name, an HTTP path or a URL to the name under
// the assets folder.
func assetName(p string) string {
	if i := strings.Index(p, "://"); i >= 0 {
		p = p[i+3:]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:]
		} else {
			p = ""
		}
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimPrefix(p, "/")
	return strings.TrimPrefix(p, "assets/")
}

func sameFile(name, want string) bool { return name == assetName(want) }

func anySame(name, list string) bool {
	for _, f := range strings.Fields(list) {
		if sameFile(name, f) {
			return true
		}
	}
	return false
}
