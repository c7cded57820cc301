package timeline

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rackboot/rackboot/events"
)

func journalLines(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, JournalName))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// A Flush appends only the machines that changed; a second Flush with no
// change writes nothing.
func TestFlushAppendsChangedMachines(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := newStore(t, c, Config{Dir: dir})
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "pxe", "undionly.kpxe"))
	emit(s, c, dhcpEv(mac2, "DISCOVER", "OFFER", "pxe", "undionly.kpxe"))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	before := journalLines(t, dir)
	emit(s, c, dhcpEv(mac1, "REQUEST", "ACK", "pxe", "undionly.kpxe"))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := journalLines(t, dir); got != before+1 {
		t.Errorf("journal has %d lines after one machine changed, want %d", got, before+1)
	}
	r := newStore(t, c, Config{Dir: dir})
	if m := wantState(t, r, mac1, StateDHCP); len(m.Events) != 2 {
		t.Errorf("reloaded %d events, want the later line's 2", len(m.Events))
	}
	wantState(t, r, mac2, StateDHCP)
}

// The journal is rewritten once it holds more than compactFactor lines
// per machine (plus the slack), so it stays bounded however long the
// server runs.
func TestJournalIsCompacted(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := newStore(t, c, Config{Dir: dir})
	s.journalSlack = 6
	limit := compactFactor*1 + s.journalSlack
	for i := 0; i < 3*limit; i++ {
		emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "pxe", "undionly.kpxe"))
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if n := journalLines(t, dir); n > limit {
			t.Fatalf("flush %d: journal has %d lines, bound %d", i, n, limit)
		}
	}
	r := newStore(t, c, Config{Dir: dir})
	if r.Len() != 1 || journalLines(t, dir) != 1 {
		t.Errorf("after reload: %d machines, %d lines; want 1 and 1", r.Len(), journalLines(t, dir))
	}
}

// A torn last line (a crash mid-append) is skipped with a warning, the
// lines before it are kept, and the journal is rewritten whole at start.
func TestTornJournalLine(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := newStore(t, c, Config{Dir: dir})
	emit(s, c, dhcpEv(mac1, "DISCOVER", "OFFER", "pxe", "undionly.kpxe"))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, JournalName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, `{"mac":"%s","events":[{"ti`, mac2)
	f.Close()
	r := newStore(t, c, Config{Dir: dir})
	wantState(t, r, mac1, StateDHCP)
	if _, ok := r.Machine(mac2); ok || r.Len() != 1 {
		t.Errorf("the torn line's machine was restored (%d machines)", r.Len())
	}
	if n := journalLines(t, dir); n != 1 {
		t.Errorf("journal not rewritten at start: %d lines", n)
	}
}

// An earlier build's per-machine files are read, moved into the journal
// and removed.
func TestLegacyFilesMoveIntoTheJournal(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	ts := c.Now().UTC().Format("2006-01-02T15:04:05Z")
	old := fmt.Sprintf(`{"mac":"%s","first_seen":"%s","boots":3,"hostname":"node1","events":[{"time":"%s","kind":"dhcp","message":"DISCOVER","reply":"OFFER","class":"pxe","boot_file":"undionly.kpxe"}]}`,
		mac1, ts, ts)
	name := filepath.Join(dir, "52-54-00-12-34-56.json")
	if err := os.WriteFile(name, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, c, Config{Dir: dir})
	m := wantState(t, s, mac1, StateDHCP)
	if m.Boots != 3 || m.Hostname != "node1" {
		t.Errorf("legacy file read as boots %d, hostname %q", m.Boots, m.Hostname)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("legacy file still there: %v", err)
	}
	r := newStore(t, c, Config{Dir: dir})
	wantState(t, r, mac1, StateDHCP)
}

// FuzzJournalLine: whatever a journal line holds, reading it never panics
// and a line it accepts names a valid MAC.
func FuzzJournalLine(f *testing.F) {
	f.Add([]byte(`{"mac":"52:54:00:12:34:56","events":[{"time":"2026-12-02T10:00:00Z","kind":"dhcp"}]}`))
	f.Add([]byte(`{"mac":"52:54:00:12:34:56","removed":true}`))
	f.Add([]byte(`{"mac":"zz"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseLine(b)
		if err != nil {
			return
		}
		if _, err := events.ParseMAC(l.MAC); err != nil {
			t.Fatalf("accepted line with MAC %q: %v", l.MAC, err)
		}
		s, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.restore(l)
		s.mu.Unlock()
	})
}
