// Package timeline builds each machine's boot timeline from the events
// rackboot's servers emit (package events): the last M events of at most
// N machines, and a state per machine, discovered → dhcp → boot program →
// script → kernel → initrd → booted or failed, or stalled at a step when a
// machine stops asking mid-boot. The last boot of each machine is kept in
// a folder (server.data_dir) and read back at start.
//
// Store is an events.Sink. Emit takes one short lock and does no I/O;
// Run writes the changed machines to disk and marks stalled machines.
package timeline

import (
	"context"
	"net/netip"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/logx"
)

// Defaults of Config.
const (
	DefaultMaxMachines = 4096
	DefaultMaxEvents   = 200
	DefaultStallAfter  = 60 * time.Second
	// DefaultFlushEvery is how often Run writes changed machines.
	DefaultFlushEvery = 5 * time.Second
)

// Config configures a Store. Zero values take the defaults.
type Config struct {
	// MaxMachines bounds the machines kept; past it the one seen least
	// recently is dropped.
	MaxMachines int
	// MaxEvents bounds each machine's events; the oldest go first.
	MaxEvents int
	// StallAfter is how long a machine mid-boot may go without a request
	// before it is stalled.
	StallAfter time.Duration
	// Dir keeps each machine's last boot, in one journal (persist.go);
	// "" keeps nothing.
	Dir string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Outcome, when set, is told each boot that ends (booted, failed) or
	// stalls, with the time from its first DHCP request. It is called
	// with the store's lock held and must be quick.
	Outcome func(state State, took time.Duration)
	// Log: nil logs nothing.
	Log logrus.FieldLogger
}

// Store holds the timelines. Its methods are safe for concurrent use.
type Store struct {
	cfg Config
	log logrus.FieldLogger

	mu       sync.Mutex
	machines map[events.MAC]*machine
	lru      machine // sentinel of the list, most recent first
	byAddr   map[netip.Addr]events.MAC
	vocab    *vocab
	strs     interner
	seq      uint64
	subs     map[chan Change]struct{}
	dirty    map[events.MAC]bool
	removed  map[events.MAC]bool

	// flushMu serialises Flush; it guards the journal (persist.go).
	flushMu      sync.Mutex
	journal      *os.File
	journalLines int
	journalSlack int // compactSlack; tests make it small

	// Unattributed counts events that named no machine (no MAC, an
	// address no machine was seen at); Dropped counts changes a slow
	// subscriber missed.
	Unattributed atomic.Uint64
	Dropped      atomic.Uint64
}

var _ events.Sink = (*Store)(nil)

// machine is one machine's state and its ring of events.
type machine struct {
	mac                      events.MAC
	prev, next               *machine
	hostname, class          string
	arch                     uint16
	hasArch, stalled         bool
	addr                     netip.Addr
	profile, group           string
	via                      uint8
	bootFile, kernel, initrd string
	state                    State
	detail, lastError        string
	firstSeen, lastSeen      int64
	bootStart, bootEnd       int64
	boots                    int
	seq, bootSeq             uint64 // events recorded; the count when this boot began
	ring                     []record
	head                     int // next slot to write once the ring is full
	// refusals of iPXE by its firmware (refusal.go)
	refusals refusals
}

// New returns a store for cfg and reads the machines kept in cfg.Dir.
func New(cfg Config) (*Store, error) {
	if cfg.MaxMachines <= 0 {
		cfg.MaxMachines = DefaultMaxMachines
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = DefaultStallAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{
		cfg: cfg, log: logx.OrDiscard(cfg.Log), machines: map[events.MAC]*machine{},
		byAddr: map[netip.Addr]events.MAC{}, vocab: newVocab(), strs: interner{max: 8192, m: map[string]string{}},
		subs: map[chan Change]struct{}{}, dirty: map[events.MAC]bool{}, removed: map[events.MAC]bool{},
		journalSlack: compactSlack,
	}
	s.lru.next, s.lru.prev = &s.lru, &s.lru
	if cfg.Dir != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Emit records ev (events.Sink). An event without a MAC is attributed to
// the machine last seen at its address, or counted as Unattributed.
func (s *Store) Emit(ev events.Event) {
	t := ev.Time.UnixNano()
	if ev.Time.IsZero() {
		t = s.cfg.Now().UnixNano()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(&ev, t, true)
}

// record applies ev; the caller holds the lock.
func (s *Store) record(ev *events.Event, t int64, live bool) {
	if ev.MAC.IsZero() {
		mac, ok := s.byAddr[ev.Addr.Unmap()]
		if !ok || !ev.Addr.IsValid() {
			s.Unattributed.Add(1)
			return
		}
		ev.MAC = mac
	}
	m := s.machines[ev.MAC]
	if m == nil {
		m = s.add(ev.MAC)
	} else {
		s.touch(m)
	}
	s.followIPXE(m, ev, t, live)
	r := s.encode(ev, t)
	m.seq++
	r.seq = m.seq
	ended := m.apply(&r, ev)
	if m.addr.IsValid() {
		if len(s.byAddr) >= 2*s.cfg.MaxMachines {
			clear(s.byAddr)
		}
		s.byAddr[m.addr] = m.mac
	}
	s.push(m, r)
	if s.cfg.Dir != "" {
		s.dirty[m.mac] = true
	}
	if ended && live && s.cfg.Outcome != nil {
		s.cfg.Outcome(m.state, time.Duration(m.bootEnd-m.bootStart))
	}
	if live && len(s.subs) > 0 {
		s.notify(m, &r)
	}
}

// push appends r to m's ring, overwriting the oldest when full.
func (s *Store) push(m *machine, r record) {
	if len(m.ring) < s.cfg.MaxEvents {
		if len(m.ring) == cap(m.ring) {
			// Grow by doubling, but never past the bound.
			grown := make([]record, len(m.ring), min(max(2*cap(m.ring), 4), s.cfg.MaxEvents))
			copy(grown, m.ring)
			m.ring = grown
		}
		m.ring = append(m.ring, r)
		return
	}
	m.ring[m.head] = r
	m.head = (m.head + 1) % len(m.ring)
}

// add starts a machine, dropping the least recently seen one when full.
func (s *Store) add(mac events.MAC) *machine {
	var m *machine
	if len(s.machines) >= s.cfg.MaxMachines {
		old := s.lru.prev
		s.unlink(old)
		delete(s.machines, old.mac)
		delete(s.dirty, old.mac)
		if s.cfg.Dir != "" {
			s.removed[old.mac] = true
		}
		// Reuse the dropped machine and its ring: a flood of new MACs
		// allocates nothing once the store is full.
		*old = machine{ring: old.ring[:0]}
		m = old
	} else {
		m = &machine{}
	}
	m.mac = mac
	s.machines[mac] = m
	delete(s.removed, mac)
	s.link(m)
	return m
}

func (s *Store) link(m *machine) {
	m.prev, m.next = &s.lru, s.lru.next
	s.lru.next.prev = m
	s.lru.next = m
}

func (s *Store) unlink(m *machine) {
	m.prev.next, m.next.prev = m.next, m.prev
	m.prev, m.next = nil, nil
}

func (s *Store) touch(m *machine) {
	if s.lru.next != m {
		s.unlink(m)
		s.link(m)
	}
}

// events returns m's records, oldest first, from sequence number from on.
func (m *machine) events(from uint64) []record {
	out := make([]record, 0, len(m.ring))
	for i := range m.ring {
		r := m.ring[(m.head+i)%len(m.ring)]
		if r.seq > from {
			out = append(out, r)
		}
	}
	return out
}

// Tick marks the machines that went quiet mid-boot as stalled, as of the
// store's clock. Run calls it every second.
func (s *Store) Tick() {
	now := s.cfg.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for m := s.lru.next; m != &s.lru; m = m.next {
		if m.stalled || !m.state.midBoot() || now-m.lastSeen < int64(s.cfg.StallAfter) {
			continue
		}
		m.stalled = true
		s.dirty[m.mac] = true
		if s.cfg.Outcome != nil {
			s.cfg.Outcome(StateStalled, time.Duration(now-m.bootStart))
		}
		if len(s.subs) > 0 {
			s.notify(m, nil)
		}
	}
}

// Run marks stalled machines every second and writes changed machines to
// Config.Dir every DefaultFlushEvery, until ctx ends; then it writes once
// more.
func (s *Store) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			s.logFlush(s.Flush())
			s.flushMu.Lock()
			s.closeJournal()
			s.flushMu.Unlock()
			return
		case <-tick.C:
			s.Tick()
			if time.Since(last) >= DefaultFlushEvery {
				s.logFlush(s.Flush())
				last = time.Now()
			}
		}
	}
}

func (s *Store) logFlush(err error) {
	if err != nil {
		s.log.WithError(err).Warn("timeline: keeping the last boots in data_dir")
	}
}

// Machines returns every machine's summary, most recently seen first.
func (s *Store) Machines() []Machine {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Machine, 0, len(s.machines))
	for m := s.lru.next; m != &s.lru; m = m.next {
		out = append(out, s.summary(m))
	}
	return out
}

// Machine returns one machine's summary with its events, oldest first.
func (s *Store) Machine(mac events.MAC) (Machine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[mac]
	if m == nil {
		return Machine{}, false
	}
	sum := s.summary(m)
	recs := m.events(0)
	sum.Events = make([]Entry, len(recs))
	for i := range recs {
		sum.Events[i] = s.entry(&recs[i])
	}
	return sum, true
}

// MACAt returns the MAC of the machine last seen at addr, for log lines
// that know only a client address (TFTP).
func (s *Store) MACAt(addr netip.Addr) (events.MAC, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mac, ok := s.byAddr[addr.Unmap()]
	return mac, ok
}

// Len returns how many machines the store holds.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.machines)
}

// Change is one change to a machine, sent to subscribers: its summary
// after the change and the event that made it (nil when it stalled).
type Change struct {
	Machine Machine `json:"machine"`
	Event   *Entry  `json:"event,omitempty"`
}

// Subscribe returns a channel that receives every change until cancel is
// called. A subscriber that does not keep up misses changes (counted in
// Dropped) rather than slowing the servers; buf is the channel's room.
func (s *Store) Subscribe(buf int) (<-chan Change, func()) {
	ch := make(chan Change, max(buf, 1))
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, ch)
			s.mu.Unlock()
		})
	}
}

// notify sends a change to every subscriber without waiting.
func (s *Store) notify(m *machine, r *record) {
	c := Change{Machine: s.summary(m)}
	if r != nil {
		e := s.entry(r)
		c.Event = &e
	}
	for ch := range s.subs {
		select {
		case ch <- c:
		default:
			s.Dropped.Add(1)
		}
	}
}

// Machine is a machine's summary (and, from Store.Machine, its events).
type Machine struct {
	MAC      string `json:"mac"`
	Hostname string `json:"hostname,omitempty"`
	Addr     string `json:"addr,omitempty"`
	// Firmware is the client class of its last firmware request (pxe,
	// ipxe, httpboot, pxelinux); Arch the RFC 4578 architecture.
	Firmware string  `json:"firmware,omitempty"`
	Arch     *uint16 `json:"arch,omitempty"`
	Profile  string  `json:"profile,omitempty"`
	Via      string  `json:"via,omitempty"`
	Group    string  `json:"group,omitempty"`
	State    State   `json:"state"`
	// StalledAt is the step a stalled machine stopped at.
	StalledAt State `json:"stalled_at,omitempty"`
	// Detail says in words why it failed, stalled or was not answered.
	Detail    string    `json:"detail,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	BootFile  string    `json:"boot_file,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	BootStart time.Time `json:"boot_start"`
	// BootSeconds is how long the last boot took, from its first DHCP
	// request to its report, or so far.
	BootSeconds float64 `json:"boot_seconds"`
	Boots       int     `json:"boots"`
	Events      []Entry `json:"events,omitempty"`
	// RefusedIPXE says how often its firmware refused iPXE (refusal.go).
	RefusedIPXE *IPXERefusals `json:"refused_ipxe,omitempty"`
}

// summary builds m's Machine; the caller holds the lock.
func (s *Store) summary(m *machine) Machine {
	sum := Machine{
		MAC: m.mac.String(), Hostname: m.hostname, Firmware: m.class, Profile: m.profile,
		Via: s.vocab.word(m.via), Group: m.group, State: m.state, Detail: m.detail, LastError: m.lastError,
		BootFile: m.bootFile, FirstSeen: time.Unix(0, m.firstSeen).UTC(), LastSeen: time.Unix(0, m.lastSeen).UTC(),
		Boots: m.boots, RefusedIPXE: m.refusals.summary(),
	}
	if m.addr.IsValid() {
		sum.Addr = m.addr.String()
	}
	if m.hasArch {
		a := m.arch
		sum.Arch = &a
	}
	if m.bootStart != 0 {
		sum.BootStart = time.Unix(0, m.bootStart).UTC()
		end := m.bootEnd
		if end == 0 {
			end = m.lastSeen
		}
		sum.BootSeconds = float64(end-m.bootStart) / 1e9
	}
	if m.stalled {
		sum.State, sum.StalledAt = StateStalled, m.state
		sum.Detail = stallDetail(m.state, s.cfg.StallAfter, m.detail, m.lastError)
	}
	return sum
}

// stallDetail says in words where a machine stopped.
func stallDetail(at State, after time.Duration, detail, lastErr string) string {
	what := map[State]string{
		StateDiscovered: "it asked for DHCP but got no boot answer",
		StateDHCP:       "it got its DHCP answer but never loaded its boot program",
		StateProgram:    "it loaded its boot program, which never asked for its script",
		StateScript:     "it loaded its script but never its kernel",
		StateKernel:     "it loaded its kernel but never its initrd",
		StateInitrd:     "it loaded its kernel and initrd but never reported booted",
	}[at]
	msg := "no request for " + after.String() + ": " + what
	if detail != "" {
		msg += " (" + detail + ")"
	}
	if lastErr != "" {
		msg += "; last error: " + lastErr
	}
	return msg
}

// SortByMAC orders machines by MAC, for stable listings.
func SortByMAC(ms []Machine) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].MAC < ms[j].MAC })
}
