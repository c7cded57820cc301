package timeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/atomicfile"
)

// The last boots are kept in one journal, Config.Dir/JournalName: one JSON
// line per machine that changed, appended by each Flush with one write
// and one fsync, the later line of a MAC replacing the earlier ones. When
// the journal holds more than compactFactor lines per live machine (plus
// compactSlack), Flush rewrites it whole instead (written aside, synced,
// renamed over), and so does New after reading it.
//
// Earlier builds kept one file per machine (MAC.json); New reads those,
// writes them into the journal and removes them.
const (
	// JournalName is the journal's file name in Config.Dir.
	JournalName   = "boots.jsonl"
	compactFactor = 4
	compactSlack  = 1024
	// maxLine bounds one journal line: a machine of 200 events is ~60 KB.
	maxLine = 16 << 20
)

// saved is one machine's journal line: its summary fields that a replay
// of the last boot's events cannot give back, and those events; or,
// Removed, that the machine was dropped.
type saved struct {
	MAC       string    `json:"mac"`
	Removed   bool      `json:"removed,omitempty"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	Boots     int       `json:"boots,omitempty"`
	Kernel    string    `json:"kernel,omitempty"`
	Initrd    string    `json:"initrd,omitempty"`
	Hostname  string    `json:"hostname,omitempty"`
	Events    []Entry   `json:"events,omitempty"`
}

// Flush appends every machine changed, and every machine dropped, since
// the last Flush to the journal in one write followed by one fsync, or
// compacts the journal when it has grown past its bound. The store's lock
// is held only to copy; Emit never waits for the disk.
func (s *Store) Flush() error {
	if s.cfg.Dir == "" {
		return nil
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	lines := make([]*saved, 0, len(s.dirty)+len(s.removed))
	for mac := range s.dirty {
		if m := s.machines[mac]; m != nil {
			lines = append(lines, s.save(m))
		}
	}
	for mac := range s.removed {
		lines = append(lines, &saved{MAC: mac.String(), Removed: true})
	}
	live := len(s.machines)
	clear(s.dirty)
	clear(s.removed)
	s.mu.Unlock()

	if len(lines) == 0 {
		return nil
	}
	if s.journal == nil || s.journalLines+len(lines) > compactFactor*live+s.journalSlack {
		return s.compact()
	}
	if err := s.appendLines(lines); err != nil {
		// The journal may now end in a torn line: start a new one.
		s.closeJournal()
		return errors.Join(err, s.compact())
	}
	return nil
}

// appendLines writes lines to the journal and syncs it.
func (s *Store) appendLines(lines []*saved) error {
	b, err := encodeLines(lines)
	if err == nil {
		_, err = s.journal.Write(b)
	}
	if err == nil {
		err = s.journal.Sync()
	}
	if err != nil {
		return fmt.Errorf("timeline: appending to %s: %w", s.journalPath(), err)
	}
	s.journalLines += len(lines)
	return nil
}

// compact rewrites the journal with one line per live machine, least
// recently seen first, and opens it for appending. flushMu is held.
func (s *Store) compact() error {
	s.mu.Lock()
	lines := make([]*saved, 0, len(s.machines))
	for m := s.lru.prev; m != &s.lru; m = m.prev {
		lines = append(lines, s.save(m))
	}
	clear(s.dirty)
	clear(s.removed)
	s.mu.Unlock()

	s.closeJournal()
	b, err := encodeLines(lines)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o750); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	if err := atomicfile.Write(s.journalPath(), b); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	f, err := os.OpenFile(s.journalPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	s.journal, s.journalLines = f, len(lines)
	return nil
}

func (s *Store) closeJournal() {
	if s.journal != nil {
		s.journal.Close()
		s.journal = nil
	}
}

func (s *Store) journalPath() string { return filepath.Join(s.cfg.Dir, JournalName) }

func encodeLines(lines []*saved) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// save copies m's last boot; the caller holds the lock.
func (s *Store) save(m *machine) *saved {
	recs := m.events(m.bootSeq)
	f := &saved{MAC: m.mac.String(), FirstSeen: time.Unix(0, m.firstSeen).UTC(), Boots: m.boots,
		Kernel: m.kernel, Initrd: m.initrd, Hostname: m.hostname, Events: make([]Entry, len(recs))}
	for i := range recs {
		f.Events[i] = s.entry(&recs[i])
	}
	return f
}

// load reads the journal and any per-machine files of earlier builds and
// replays their events, then compacts the journal and removes the
// per-machine files. A line or file that cannot be read is logged and
// skipped; only an unreadable Dir is an error. Machines are added oldest
// first, so the bound keeps the newest.
func (s *Store) load() error {
	ents, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("timeline: reading %s: %w", s.cfg.Dir, err)
	}
	kept := map[string]*saved{}
	var legacy []string
	for _, e := range ents {
		name := filepath.Join(s.cfg.Dir, e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		legacy = append(legacy, name)
		f, err := readSaved(name)
		if err != nil {
			s.log.WithError(err).Warn("timeline: skipping a kept boot")
			continue
		}
		kept[f.MAC] = f
	}
	if err := s.readJournal(kept); err != nil {
		return err
	}
	all := make([]*saved, 0, len(kept))
	for _, f := range kept {
		all = append(all, f)
	}
	sort.Slice(all, func(i, j int) bool { return lastTime(all[i]).Before(lastTime(all[j])) })
	s.mu.Lock()
	for _, f := range all {
		s.restore(f)
	}
	s.mu.Unlock()

	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if err := s.compact(); err != nil {
		return err
	}
	for _, name := range legacy {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.WithError(err).Warn("timeline: removing an earlier build's file")
		}
	}
	return nil
}

// readJournal applies the journal's lines to kept, by MAC, in order. A
// line that does not parse (a torn last line after a crash, say) is
// logged with its number and skipped.
func (s *Store) readJournal(kept map[string]*saved) error {
	f, err := os.Open(s.journalPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		l, err := parseLine(sc.Bytes())
		if err != nil {
			s.log.WithError(err).Warnf("timeline: %s line %d: skipped", s.journalPath(), n)
			continue
		}
		if l.Removed {
			delete(kept, l.MAC)
		} else {
			kept[l.MAC] = l
		}
	}
	if err := sc.Err(); err != nil {
		s.log.WithError(err).Warnf("timeline: %s: the rest is skipped", s.journalPath())
	}
	return nil
}

// parseLine decodes one kept boot (a journal line or an earlier build's
// file) and checks its MAC, which it returns in canonical form.
func parseLine(b []byte) (*saved, error) {
	var f saved
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	mac, err := events.ParseMAC(f.MAC)
	if err != nil {
		return nil, fmt.Errorf("mac: %w", err)
	}
	if mac.IsZero() {
		return nil, fmt.Errorf("mac: %q is all zeros", f.MAC)
	}
	f.MAC = mac.String()
	return &f, nil
}

func lastTime(f *saved) time.Time {
	if n := len(f.Events); n > 0 {
		return f.Events[n-1].Time
	}
	return f.FirstSeen
}

func readSaved(name string) (*saved, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	f, err := parseLine(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// restore replays one kept boot; the caller holds the lock.
func (s *Store) restore(f *saved) {
	mac, _ := events.ParseMAC(f.MAC)
	for i := range f.Events {
		ev := f.Events[i].event(mac)
		s.record(&ev, ev.Time.UnixNano(), false)
	}
	m := s.machines[mac]
	if m == nil {
		return
	}
	if !f.FirstSeen.IsZero() {
		m.firstSeen = f.FirstSeen.UnixNano()
	}
	m.boots = max(m.boots, f.Boots)
	if f.Hostname != "" {
		m.hostname = f.Hostname
	}
	if m.kernel == "" {
		m.kernel, m.initrd = f.Kernel, f.Initrd
	}
}
