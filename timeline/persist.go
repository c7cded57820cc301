package timeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rackboot/rackboot/events"
)

// saved is one machine's file: its summary fields that a replay of the
// last boot's events cannot give back, and those events.
type saved struct {
	MAC       string    `json:"mac"`
	FirstSeen time.Time `json:"first_seen"`
	Boots     int       `json:"boots"`
	Kernel    string    `json:"kernel,omitempty"`
	Initrd    string    `json:"initrd,omitempty"`
	Hostname  string    `json:"hostname,omitempty"`
	Events    []Entry   `json:"events"`
}

// fileName is the machine's file in Dir: 52-54-00-12-34-56.json.
func fileName(mac events.MAC) string {
	return strings.ReplaceAll(mac.String(), ":", "-") + ".json"
}

// Flush writes every machine changed since the last Flush to Config.Dir,
// each file atomically (written aside, synced, renamed over), and removes
// the files of dropped machines. The lock is held only to copy.
func (s *Store) Flush() error {
	if s.cfg.Dir == "" {
		return nil
	}
	s.mu.Lock()
	files := make(map[events.MAC]*saved, len(s.dirty))
	for mac := range s.dirty {
		if m := s.machines[mac]; m != nil {
			files[mac] = s.save(m)
		}
	}
	gone := make([]events.MAC, 0, len(s.removed))
	for mac := range s.removed {
		gone = append(gone, mac)
	}
	clear(s.dirty)
	clear(s.removed)
	s.mu.Unlock()

	if err := os.MkdirAll(s.cfg.Dir, 0o750); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	var errs []error
	for mac, f := range files {
		if err := writeAtomic(filepath.Join(s.cfg.Dir, fileName(mac)), f); err != nil {
			errs = append(errs, err)
		}
	}
	for _, mac := range gone {
		if err := os.Remove(filepath.Join(s.cfg.Dir, fileName(mac))); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("timeline: %w", err))
		}
	}
	return errors.Join(errs...)
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

func writeAtomic(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("timeline: %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("timeline: writing %s: %w", name, err)
	}
	return nil
}

// load reads every machine file in Dir and replays its events. A file
// that cannot be read is logged and skipped; only an unreadable Dir is an
// error. Machines are added oldest first, so the bound keeps the newest.
func (s *Store) load() error {
	ents, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("timeline: reading %s: %w", s.cfg.Dir, err)
	}
	var all []*saved
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f, err := readSaved(filepath.Join(s.cfg.Dir, e.Name()))
		if err != nil {
			s.log.WithError(err).Warn("timeline: skipping a kept boot")
			continue
		}
		all = append(all, f)
	}
	sort.Slice(all, func(i, j int) bool { return lastTime(all[i]).Before(lastTime(all[j])) })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range all {
		s.restore(f)
	}
	clear(s.dirty)
	return nil
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
	var f saved
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := events.ParseMAC(f.MAC); err != nil {
		return nil, fmt.Errorf("%s: mac: %w", name, err)
	}
	return &f, nil
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
