package timeline

import (
	"net/netip"
	"time"

	"github.com/rackboot/rackboot/events"
)

// record is an event as the store keeps it: about 150 bytes, strings
// interned, so that the default bound (DefaultMaxMachines x
// DefaultMaxEvents) stays small (bench/README.md measures it).
type record struct {
	t, dur, bytes int64
	addr          netip.Addr
	seq           uint64
	kind          events.Kind
	step          events.Step
	hasArch       bool
	msg, reply    uint8 // vocabulary indexes
	class, state  uint8
	via           uint8
	arch          uint16
	status        int32
	file          string // File, or BootFile for DHCP
	profile       string
	group         string
	reason        string
	err           string
}

// Entry is one event of a machine's timeline as the API shows it.
type Entry struct {
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Addr     string    `json:"addr,omitempty"`
	Message  string    `json:"message,omitempty"`
	Reply    string    `json:"reply,omitempty"`
	Class    string    `json:"class,omitempty"`
	Arch     *uint16   `json:"arch,omitempty"`
	File     string    `json:"file,omitempty"`
	Step     string    `json:"step,omitempty"`
	Status   int       `json:"status,omitempty"`
	Bytes    int64     `json:"bytes,omitempty"`
	Duration float64   `json:"duration_ms,omitempty"`
	Profile  string    `json:"profile,omitempty"`
	Via      string    `json:"via,omitempty"`
	Group    string    `json:"group,omitempty"`
	State    string    `json:"state,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// vocab maps the few distinct short strings of a field (message types,
// classes, ...) to small numbers. Index 0 is "". Past maxWords words new
// ones are kept as "". A scan of a few constant strings (most differ in
// length, equal ones share their bytes) is cheaper than hashing them.
type vocab struct {
	words []string
}

const maxWords = 64

func newVocab() *vocab { return &vocab{words: []string{""}} }

func (v *vocab) id(s string) uint8 {
	for i, w := range v.words {
		if w == s {
			return uint8(i)
		}
	}
	if len(v.words) >= maxWords {
		return 0
	}
	v.words = append(v.words, s)
	return uint8(len(v.words) - 1)
}

func (v *vocab) word(i uint8) string {
	if int(i) < len(v.words) {
		return v.words[i]
	}
	return ""
}

// interner shares equal strings between records. It holds at most max
// strings; when full it starts again (strings already shared stay so).
type interner struct {
	max int
	m   map[string]string
}

func (in *interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	if len(in.m) >= in.max {
		clear(in.m)
	}
	in.m[s] = s
	return s
}

// encode turns ev into a record; the caller holds the store's lock.
func (s *Store) encode(ev *events.Event, t int64) record {
	r := record{
		t: t, dur: int64(ev.Duration), bytes: ev.Bytes, addr: ev.Addr.Unmap(),
		kind: ev.Kind, step: ev.Step, hasArch: ev.HasArch, arch: ev.Arch, status: int32(ev.Status),
		msg: s.vocab.id(ev.Message), reply: s.vocab.id(ev.Reply), class: s.vocab.id(ev.Class),
		state: s.vocab.id(ev.State), via: s.vocab.id(ev.Via),
		file: s.strs.get(ev.File), profile: s.strs.get(ev.Profile), group: s.strs.get(ev.Group),
		reason: s.strs.get(ev.Reason), err: s.strs.get(ev.Error),
	}
	if ev.BootFile != "" && r.file == "" {
		r.file = s.strs.get(ev.BootFile)
	}
	return r
}

// entry turns a record into its API form; the caller holds the lock.
func (s *Store) entry(r *record) Entry {
	e := Entry{
		Time: time.Unix(0, r.t).UTC(), Kind: r.kind.String(), File: r.file, Step: r.step.String(),
		Status: int(r.status), Bytes: r.bytes, Duration: float64(r.dur) / 1e6,
		Message: s.vocab.word(r.msg), Reply: s.vocab.word(r.reply), Class: s.vocab.word(r.class),
		Via: s.vocab.word(r.via), State: s.vocab.word(r.state),
		Profile: r.profile, Group: r.group, Reason: r.reason, Error: r.err,
	}
	if r.addr.IsValid() {
		e.Addr = r.addr.String()
	}
	if r.hasArch {
		a := r.arch
		e.Arch = &a
	}
	return e
}

// event turns an Entry (read back from disk) into the Event it came from.
func (e *Entry) event(mac events.MAC) events.Event {
	ev := events.Event{
		Time: e.Time, MAC: mac, Message: e.Message, Reply: e.Reply, Class: e.Class,
		File: e.File, Status: e.Status, Bytes: e.Bytes, Duration: time.Duration(e.Duration * 1e6),
		Profile: e.Profile, Via: e.Via, Group: e.Group, State: e.State, Reason: e.Reason, Error: e.Error,
	}
	ev.Kind, _ = events.ParseKind(e.Kind)
	for st := events.StepProgram; st <= events.StepConfig; st++ {
		if st.String() == e.Step {
			ev.Step = st
		}
	}
	if e.Arch != nil {
		ev.Arch, ev.HasArch = *e.Arch, true
	}
	if a, err := netip.ParseAddr(e.Addr); err == nil {
		ev.Addr = a
	}
	if (ev.Kind == events.KindDHCP || ev.Kind == events.KindProxyDHCP) && ev.File != "" {
		ev.BootFile, ev.File = ev.File, ""
	}
	return ev
}
