package timeline

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rackboot/rackboot/events"
)

var (
	mac1 = mustMAC("52:54:00:12:34:56")
	mac2 = mustMAC("52:54:00:12:34:57")
	ip1  = netip.MustParseAddr("192.0.2.100")
)

func mustMAC(s string) events.MAC {
	m, err := events.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore(t *testing.T, c *clock, cfg Config) *Store {
	t.Helper()
	cfg.Now = c.Now
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// emit sends ev at the clock's time and moves the clock on by a second.
func emit(s *Store, c *clock, ev events.Event) {
	ev.Time = c.Now()
	s.Emit(ev)
	c.Add(time.Second)
}

func dhcpEv(mac events.MAC, msg, reply, class, bootFile string) events.Event {
	return events.Event{MAC: mac, Kind: events.KindDHCP, Addr: ip1, Message: msg, Reply: reply, Class: class,
		BootFile: bootFile, Profile: "demo", Via: "machine"}
}

func httpEv(mac events.MAC, path string, step events.Step, status int) events.Event {
	return events.Event{MAC: mac, Kind: events.KindHTTP, Addr: ip1, File: path, Step: step, Status: status, Bytes: 100}
}

func tftpEv(file, err string) events.Event {
	return events.Event{Kind: events.KindTFTP, Addr: ip1, File: file, Bytes: 1000, Error: err}
}

func state(t *testing.T, s *Store, mac events.MAC) Machine {
	t.Helper()
	m, ok := s.Machine(mac)
	if !ok {
		t.Fatalf("machine %s not found", mac)
	}
	return m
}

func wantState(t *testing.T, s *Store, mac events.MAC, want State) Machine {
	t.Helper()
	m := state(t, s, mac)
	if m.State != want {
		t.Fatalf("state = %q, want %q (detail %q)", m.State, want, m.Detail)
	}
	return m
}

// biosBoot is QEMU's iPXE ROM: DHCP, script, kernel, initrd (the last two
// without a MAC, attributed by address), report.
func biosBoot(t *testing.T, s *Store, c *clock) {
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "ipxe", "http://192.0.2.1:8080/boot.ipxe"))
	wantState(t, s, mac1, StateDHCP)
	emit(s, c, dhcpEv(mac1, "REQUEST", "ACK", "ipxe", "http://192.0.2.1:8080/boot.ipxe"))
	emit(s, c, httpEv(mac1, "/boot.ipxe", events.StepScript, 200))
	ev := httpEv(mac1, "/ipxe", events.StepScript, 200)
	ev.Kernel, ev.Initrd = "vmlinuz", "initrd.gz"
	emit(s, c, ev)
	wantState(t, s, mac1, StateScript)
	emit(s, c, httpEv(events.MAC{}, "/assets/vmlinuz", 0, 200))
	wantState(t, s, mac1, StateKernel)
	emit(s, c, httpEv(events.MAC{}, "/assets/initrd.gz", 0, 200))
	wantState(t, s, mac1, StateInitrd)
	emit(s, c, events.Event{MAC: mac1, Kind: events.KindReport, State: "booted", Reason: "payload up"})
}

func TestBIOSBoot(t *testing.T) {
	c := newClock()
	var outcomes []string
	s := newStore(t, c, Config{Outcome: func(st State, d time.Duration) { outcomes = append(outcomes, string(st)+" "+d.String()) }})
	biosBoot(t, s, c)
	m := wantState(t, s, mac1, StateBooted)
	if m.Addr != "192.0.2.100" || m.Firmware != "ipxe" || m.Profile != "demo" || m.Boots != 1 {
		t.Errorf("summary = %+v", m)
	}
	if m.BootSeconds != 6 {
		t.Errorf("boot took %vs, want 6", m.BootSeconds)
	}
	if len(m.Events) != 7 {
		t.Fatalf("%d events, want 7", len(m.Events))
	}
	if e := m.Events[4]; e.Step != "kernel" || e.File != "/assets/vmlinuz" || e.Kind != "http" {
		t.Errorf("kernel event = %+v", e)
	}
	if strings.Join(outcomes, ",") != "booted 6s" {
		t.Errorf("outcomes = %v", outcomes)
	}
}

func TestUEFIBootOverTFTP(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{})
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "pxe", "ipxe.efi"))
	emit(s, c, dhcpEv(mac1, "REQUEST", "ACK", "pxe", "ipxe.efi"))
	emit(s, c, tftpEv("ipxe.efi", ""))
	wantState(t, s, mac1, StateProgram)
	// iPXE asks DHCP again: the same boot.
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "ipxe", "http://192.0.2.1:8080/boot.ipxe"))
	m := wantState(t, s, mac1, StateProgram)
	if m.Boots != 1 || m.Firmware != "ipxe" {
		t.Errorf("boots = %d, firmware %q", m.Boots, m.Firmware)
	}
	// Without the profile's names the order decides: kernel, then initrd.
	emit(s, c, httpEv(mac1, "/ipxe", events.StepScript, 200))
	emit(s, c, httpEv(events.MAC{}, "/assets/linux", 0, 200))
	wantState(t, s, mac1, StateKernel)
	emit(s, c, httpEv(events.MAC{}, "/assets/root.img", 0, 200))
	wantState(t, s, mac1, StateInitrd)
}

func TestFailuresAndNewBoots(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{})
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "pxe", "undionly.kpxe"))
	emit(s, c, tftpEv("undionly.kpxe", "file not found"))
	m := wantState(t, s, mac1, StateDHCP)
	if m.LastError != "tftp undionly.kpxe: file not found" {
		t.Errorf("last error = %q", m.LastError)
	}
	emit(s, c, tftpEv("undionly.kpxe", ""))
	emit(s, c, httpEv(mac1, "/ipxe", events.StepScript, 200))
	emit(s, c, events.Event{MAC: mac1, Kind: events.KindReport, State: "failed", Reason: "disk not found"})
	m = wantState(t, s, mac1, StateFailed)
	if m.Detail != "disk not found" {
		t.Errorf("detail = %q", m.Detail)
	}
	// The OS's own DHCP does not start a boot; firmware does.
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "plain", ""))
	wantState(t, s, mac1, StateFailed)
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "pxe", "undionly.kpxe"))
	m = wantState(t, s, mac1, StateDHCP)
	if m.Boots != 2 || m.Detail != "" || m.LastError != "" {
		t.Errorf("after a new boot: %+v", m)
	}
}

func TestIgnoredMachineStallsWithTheReason(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{StallAfter: 30 * time.Second})
	ev := dhcpEv(mac2, "DISCOVER", "", "pxe", "")
	ev.Profile, ev.Reason = "", "no machine entry, no group matched"
	emit(s, c, ev)
	wantState(t, s, mac2, StateDiscovered)
	c.Add(31 * time.Second)
	s.Tick()
	m := wantState(t, s, mac2, StateStalled)
	if m.StalledAt != StateDiscovered || !strings.Contains(m.Detail, "no group matched") {
		t.Errorf("stalled at %q, detail %q", m.StalledAt, m.Detail)
	}
}

func TestStall(t *testing.T) {
	c := newClock()
	var outcomes []State
	s := newStore(t, c, Config{Outcome: func(st State, _ time.Duration) { outcomes = append(outcomes, st) }})
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "ipxe", "x"))
	ev := httpEv(mac1, "/ipxe", events.StepScript, 200)
	ev.Kernel, ev.Initrd = "vmlinuz", "initrd.gz"
	emit(s, c, ev)
	emit(s, c, httpEv(mac1, "/assets/vmlinuz", 0, 200))
	c.Add(58 * time.Second)
	s.Tick()
	wantState(t, s, mac1, StateKernel)
	c.Add(2 * time.Second)
	s.Tick()
	s.Tick()
	m := wantState(t, s, mac1, StateStalled)
	if m.StalledAt != StateKernel || !strings.Contains(m.Detail, "never its initrd") {
		t.Errorf("stalled at %q: %q", m.StalledAt, m.Detail)
	}
	if len(outcomes) != 1 || outcomes[0] != StateStalled {
		t.Errorf("outcomes = %v, want one stalled", outcomes)
	}
	emit(s, c, httpEv(mac1, "/assets/initrd.gz", 0, 200))
	wantState(t, s, mac1, StateInitrd)
	// Booted machines never stall.
	emit(s, c, events.Event{MAC: mac1, Kind: events.KindReport, State: "booted"})
	c.Add(time.Hour)
	s.Tick()
	wantState(t, s, mac1, StateBooted)
}

func TestBounds(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{MaxMachines: 3, MaxEvents: 5})
	for i := range 4 {
		emit(s, c, dhcpEv(events.MAC{2, 0, 0, 0, 0, byte(i)}, "DISCOVER", "OFFER", "pxe", "f"))
	}
	// Machine 0 is touched again, so machine 1 is the least recent.
	if s.Len() != 3 {
		t.Fatalf("%d machines, want 3", s.Len())
	}
	if _, ok := s.Machine(events.MAC{2, 0, 0, 0, 0, 0}); ok {
		t.Error("the oldest machine was kept")
	}
	emit(s, c, dhcpEv(events.MAC{2, 0, 0, 0, 0, 1}, "REQUEST", "ACK", "pxe", "f"))
	emit(s, c, dhcpEv(events.MAC{2, 0, 0, 0, 0, 9}, "DISCOVER", "OFFER", "pxe", "f"))
	if _, ok := s.Machine(events.MAC{2, 0, 0, 0, 0, 2}); ok {
		t.Error("machine 2, the least recently seen, was kept")
	}
	if _, ok := s.Machine(events.MAC{2, 0, 0, 0, 0, 1}); !ok {
		t.Error("machine 1, seen again, was dropped")
	}
	for i := range 8 {
		emit(s, c, httpEv(mac1, "/ipxe?n="+itoa(i), events.StepScript, 200))
	}
	m := state(t, s, mac1)
	if len(m.Events) != 5 || m.Events[0].File != "/ipxe?n=3" || m.Events[4].File != "/ipxe?n=7" {
		t.Errorf("events: %d, first %q", len(m.Events), m.Events[0].File)
	}
	if list := s.Machines(); len(list) != 3 || list[0].MAC != mac1.String() {
		t.Errorf("machines, most recent first: %v", list)
	}
}

func TestUnattributed(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{})
	emit(s, c, tftpEv("undionly.kpxe", ""))
	if s.Len() != 0 || s.Unattributed.Load() != 1 {
		t.Errorf("machines %d, unattributed %d", s.Len(), s.Unattributed.Load())
	}
}

func TestPersist(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := newStore(t, c, Config{Dir: dir})
	start := c.Now()
	biosBoot(t, s, c)
	c.Add(time.Hour)
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "ipxe", "http://192.0.2.1:8080/boot.ipxe"))
	emit(s, c, httpEv(mac1, "/boot.ipxe", events.StepScript, 200))
	emit(s, c, dhcpEv(mac2, "DISCOVER", "OFFER", "pxe", "undionly.kpxe"))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	r := newStore(t, c, Config{Dir: dir})
	m := wantState(t, r, mac1, StateScript)
	if m.Boots != 2 || !m.FirstSeen.Equal(start) || len(m.Events) != 2 {
		t.Errorf("reloaded: boots %d, first seen %v (want %v), %d events (want the last boot's 2)", m.Boots, m.FirstSeen, start, len(m.Events))
	}
	wantState(t, r, mac2, StateDHCP)
	if l := r.Machines(); len(l) != 2 || l[0].MAC != mac2.String() {
		t.Errorf("reloaded order: %v", l)
	}
	// A dropped machine's file goes too.
	small := newStore(t, c, Config{Dir: dir, MaxMachines: 1})
	if err := small.Flush(); err != nil {
		t.Fatal(err)
	}
	again := newStore(t, c, Config{Dir: dir})
	if again.Len() != 1 {
		t.Errorf("%d machines after a bound of 1 was flushed, want 1", again.Len())
	}
}

func TestSubscribe(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{})
	ch, cancel := s.Subscribe(4)
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "ipxe", "x"))
	select {
	case ch := <-ch:
		if ch.Machine.State != StateDHCP || ch.Event == nil || ch.Event.Reply != "OFFER" {
			t.Errorf("change = %+v", ch)
		}
	default:
		t.Fatal("no change sent")
	}
	cancel()
	emit(s, c, dhcpEv(mac1, "REQUEST", "ACK", "ipxe", "x"))
	select {
	case x := <-ch:
		t.Errorf("change after cancel: %+v", x)
	default:
	}
}

func TestEmitDoesNotAllocate(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{MaxEvents: 16})
	ev := dhcpEv(mac1, "REQUEST", "ACK", "pxe", "undionly.kpxe")
	ev.Time = c.Now()
	for range 32 {
		s.Emit(ev)
	}
	tf := tftpEv("undionly.kpxe", "")
	tf.Time = c.Now()
	if n := testing.AllocsPerRun(200, func() { s.Emit(ev); s.Emit(tf) }); n != 0 {
		t.Errorf("Emit allocates %v times per call for a known machine, want 0", n)
	}
}

func TestAssetName(t *testing.T) {
	for in, want := range map[string]string{
		"/assets/vmlinuz":                  "vmlinuz",
		"vmlinuz":                          "vmlinuz",
		"/vmlinuz":                         "vmlinuz",
		"http://192.0.2.1:8080/assets/a/b": "a/b",
		"/assets/x?y=1":                    "x",
		"http://host":                      "",
	} {
		if got := assetName(in); got != want {
			t.Errorf("assetName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFullStoreReusesMachines(t *testing.T) {
	c := newClock()
	s := newStore(t, c, Config{MaxMachines: 2, MaxEvents: 4})
	ev := dhcpEv(mac1, "DISCOVER", "OFFER", "pxe", "undionly.kpxe")
	ev.Time = c.Now()
	for i := range 8 {
		ev.MAC = events.MAC{2, 0, 0, 0, 1, byte(i)}
		s.Emit(ev)
		s.Emit(ev)
	}
	i := 0
	n := testing.AllocsPerRun(100, func() {
		i++
		ev.MAC = events.MAC{2, 0, 0, 1, byte(i >> 8), byte(i)}
		s.Emit(ev)
	})
	if n > 0.1 {
		t.Errorf("a new MAC in a full store allocates %v times, want 0", n)
	}
	m := state(t, s, ev.MAC)
	if len(m.Events) != 1 || m.Boots != 1 || m.State != StateDHCP {
		t.Errorf("reused machine: %+v", m)
	}
}
