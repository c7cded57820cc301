// Package events is what rackboot's servers report about each machine as
// they answer it: one small Event value per DHCP/proxyDHCP exchange, TFTP
// transfer, HTTP request and report from a booted system, handed to a
// Sink. The timeline package turns them into a per-machine boot timeline.
//
// A server gets its Sink through its constructor; a nil Sink means no
// events. Emit must be cheap and must not block: it is called on the
// servers' request paths.
package events

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Kind says which server an event comes from.
type Kind uint8

// Event kinds.
const (
	KindDHCP      Kind = iota + 1 // the full DHCP server (port 67)
	KindProxyDHCP                 // proxyDHCP (port 67 and 4011)
	KindTFTP                      // a TFTP transfer or refusal
	KindHTTP                      // an HTTP request attributed to a machine
	KindReport                    // a report from the booted system (/api/v1/report)
)

var kindNames = [...]string{KindDHCP: "dhcp", KindProxyDHCP: "proxydhcp", KindTFTP: "tftp", KindHTTP: "http", KindReport: "report"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n != "" && n == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// MAC is an Ethernet hardware address held by value, so that an event
// never points into a packet buffer that is reused. The zero MAC means
// "not known" (a TFTP or HTTP request is then attributed by its address).
type MAC [6]byte

// MACOf copies a 6-byte hardware address; any other length gives the zero
// MAC.
func MACOf(hw net.HardwareAddr) MAC {
	var m MAC
	if len(hw) == len(m) {
		copy(m[:], hw)
	}
	return m
}

// ParseMAC parses a MAC in any form net.ParseMAC accepts; it must be 6
// bytes long.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return MAC{}, err
	}
	if len(hw) != 6 {
		return MAC{}, &net.AddrError{Err: "not a 6-byte Ethernet address", Addr: s}
	}
	return MACOf(hw), nil
}

// IsZero reports whether m is unknown.
func (m MAC) IsZero() bool { return m == MAC{} }

// String is the lower-case colon form, "" for the zero MAC.
func (m MAC) String() string {
	if m.IsZero() {
		return ""
	}
	return net.HardwareAddr(m[:]).String()
}

// Step names what a file or request is in a boot. The HTTP server names
// the steps it knows (scripts, configs); the timeline works out the rest
// (boot programs, kernels, initrds) from the names.
type Step uint8

// Steps of a boot, in order.
const (
	StepUnknown Step = iota
	StepProgram      // a boot program: undionly.kpxe, ipxe.efi, pxelinux.0, ...
	StepScript       // an iPXE script or a pxelinux.cfg file
	StepKernel
	StepInitrd
	StepConfig // ignition, cloud-config, generic, metadata
)

var stepNames = [...]string{StepUnknown: "", StepProgram: "boot program", StepScript: "script", StepKernel: "kernel", StepInitrd: "initrd", StepConfig: "config"}

func (s Step) String() string {
	if int(s) < len(stepNames) {
		return stepNames[s]
	}
	return "unknown"
}

// Event is one thing a server did for a machine. Which fields are set
// depends on Kind; strings are shared with the caller (no copies).
type Event struct {
	Time time.Time
	MAC  MAC
	Kind Kind
	// Addr is the client's address: for DHCP the one given (or held),
	// for TFTP and HTTP the request's source address.
	Addr netip.Addr

	// DHCP and proxyDHCP.
	Message  string // the request's message type: DISCOVER, REQUEST, ...
	Reply    string // OFFER, ACK, NAK; "" when nothing was sent
	Class    string // boot.Class: pxe, ipxe, httpboot, plain, ...
	Arch     uint16 // RFC 4578 client architecture, when HasArch
	HasArch  bool
	Hostname string
	BootFile string
	// Loader is the loader the handed boot program belongs to (ipxe,
	// pxelinux, grub), when BootFile names one: the timeline tells by it
	// that firmware was handed iPXE (and then refused it).
	Loader  string
	Profile string
	Via     string // what chose the profile: machine, group, default_profile
	Group   string // the group, when Via is "group"

	// TFTP and HTTP.
	File     string // the TFTP file name or the HTTP path
	Step     Step   // what File is, when the server knows
	Status   int    // HTTP status; TFTP error code when Error is set
	Bytes    int64
	Duration time.Duration
	// Kernel and Initrd are the files the profile a script was rendered
	// from boots (HTTP script events only), so that the timeline knows
	// them when the machine fetches them.
	Kernel string
	Initrd string // space-separated

	// Report.
	State string // booted | failed

	// Reason says why: why this profile was chosen, why the request was
	// ignored, why a transfer failed, the report's detail.
	Reason string
	Error  string
}

// Sink receives events. Emit must not block and must not keep a pointer
// into ev beyond the call.
type Sink interface {
	Emit(ev Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

// Emit calls f.
func (f SinkFunc) Emit(ev Event) { f(ev) }

// Collector is a Sink that keeps every event, for tests.
type Collector struct {
	mu  sync.Mutex
	evs []Event
}

// Emit appends ev.
func (c *Collector) Emit(ev Event) {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
}

// Events returns a copy of the events so far.
func (c *Collector) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.evs...)
}

// Tee returns a Sink that hands every event to each non-nil sink in turn,
// or nil when there is none.
func Tee(sinks ...Sink) Sink {
	var out tee
	for _, s := range sinks {
		if s != nil {
			out = append(out, s)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

type tee []Sink

func (t tee) Emit(ev Event) {
	for _, s := range t {
		s.Emit(ev)
	}
}
