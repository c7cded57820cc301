// Package admin is rackboot's admin write API: machines and profiles
// added, changed and removed at runtime (POST/PUT/DELETE
// /api/v1/machines/MAC and /api/v1/profiles/NAME), persisted in data_dir,
// validated by the same code as the inventory file and merged into it
// (config.ParseWithEntries); and the bearer-token check in front of the
// whole /api/ tree. docs/operations.md describes it.
package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/rackboot/rackboot/internal/atomicfile"
)

// FileName is the entries file inside data_dir.
const FileName = "api-entries.json"

// Entries are the machines (by MAC, lower-case colon form) and profiles
// (by name) made through the API: each the JSON object that was sent,
// with the inventory file's keys.
type Entries struct {
	Machines map[string]json.RawMessage `json:"machines"`
	Profiles map[string]json.RawMessage `json:"profiles"`
}

// Clone returns a copy whose maps can be changed.
func (e Entries) Clone() Entries {
	return Entries{Machines: cloneMap(e.Machines), Profiles: cloneMap(e.Profiles)}
}

func cloneMap(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	maps.Copy(out, m)
	return out
}

// MACs returns the machines' MACs, sorted: the order of Doc's machines.
func (e Entries) MACs() []string { return slices.Sorted(maps.Keys(e.Machines)) }

// Doc is the entries document for config.ParseWithEntries, leaving out
// the MACs and profile names in skip (those the file defines: the file
// wins). macs lists the document's machines in order: machines[i] is
// macs[i].
func (e Entries) Doc(skipMACs, skipProfiles map[string]bool) (doc []byte, macs []string) {
	var b bytes.Buffer
	b.WriteString(`{"machines": [`)
	for _, mac := range e.MACs() {
		if skipMACs[mac] {
			continue
		}
		if len(macs) > 0 {
			b.WriteString(", ")
		}
		b.Write(e.Machines[mac])
		macs = append(macs, mac)
	}
	b.WriteString(`], "profiles": {`)
	n := 0
	for _, name := range slices.Sorted(maps.Keys(e.Profiles)) {
		if skipProfiles[name] {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteString(": ")
		b.Write(e.Profiles[name])
		n++
	}
	b.WriteString("}}\n")
	return b.Bytes(), macs
}

// Store keeps the entries in memory and in one file, replaced atomically
// (written to a temporary file, synced, renamed over, folder synced), so
// a crash at any moment leaves the old entries or the new ones.
type Store struct {
	path string
	mu   sync.Mutex
	ents Entries
	// share, when set, records the entries in the cluster's shared store
	// first (docs/cluster.md); the file is then a local copy.
	share func(Entries) error
}

// Share makes Save record the entries with save (etcd, shared by every
// member) before the file; a failed save fails Save and changes nothing.
func (s *Store) Share(save func(Entries) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.share = save
}

// Replace makes e the store's entries (another member changed them in the
// shared store) and rewrites the local copy; the copy failing is
// returned, the entries are replaced anyway.
func (s *Store) Replace(e Entries) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ents = e.Clone()
	if err := atomicfile.Write(s.path, append(data, '\n')); err != nil {
		return fmt.Errorf("admin entries: %w", err)
	}
	return nil
}

// Open reads dir's entries file; a missing file is no entries.
func Open(dir string) (*Store, error) {
	s := &Store{path: filepath.Join(dir, FileName), ents: Entries{Machines: map[string]json.RawMessage{}, Profiles: map[string]json.RawMessage{}}}
	data, err := os.ReadFile(s.path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("admin entries: %w", err)
	}
	var e Entries
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("admin entries: %s is not valid: %w", s.path, err)
	}
	if e.Machines != nil {
		s.ents.Machines = e.Machines
	}
	if e.Profiles != nil {
		s.ents.Profiles = e.Profiles
	}
	return s, nil
}

// Path is the entries file.
func (s *Store) Path() string { return s.path }

// Entries returns a copy of the entries.
func (s *Store) Entries() Entries {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ents.Clone()
}

// Save writes e to disk, then makes it the store's entries.
func (s *Store) Save(e Entries) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.share != nil {
		if err := s.share(e); err != nil {
			return fmt.Errorf("admin entries: %w", err)
		}
	}
	if err := atomicfile.Write(s.path, append(data, '\n')); err != nil {
		return fmt.Errorf("admin entries: %w", err)
	}
	s.ents = e.Clone()
	return nil
}
