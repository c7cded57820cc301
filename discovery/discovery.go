// Package discovery records the machines that network-boot without
// anyone having told rackboot about them: no machine entry, no group, no
// default_profile. Each is kept by MAC with everything its DHCP requests
// said (architecture, firmware class, vendor class, UUID, relay, option
// 82 circuit and remote id) and when it was first and last seen, so that
// an operator can adopt it (give it a profile through the admin API).
// The records are kept in data_dir/discovered.json across restarts.
package discovery

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
	"unicode"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/internal/atomicfile"
)

// FileName is the records' file inside data_dir.
const FileName = "discovered.json"

// DefaultMax bounds the records kept; past it the one seen longest ago
// goes.
const DefaultMax = 10000

// Record is one discovered machine.
type Record struct {
	MAC         string    `json:"mac"`
	Arch        *uint16   `json:"arch,omitempty"` // RFC 4578 option 93
	ArchName    string    `json:"arch_name,omitempty"`
	Firmware    string    `json:"firmware"` // the client class: pxe, httpboot, ipxe, ...
	VendorClass string    `json:"vendor_class,omitempty"`
	UUID        string    `json:"uuid,omitempty"`  // option 97
	Relay       string    `json:"relay,omitempty"` // giaddr
	CircuitID   string    `json:"circuit_id,omitempty"`
	RemoteID    string    `json:"remote_id,omitempty"`
	Hostname    string    `json:"hostname,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Requests    uint64    `json:"requests"`
}

// Registry keeps the records. Its methods are safe for concurrent use.
type Registry struct {
	path  string
	max   int
	mu    sync.Mutex
	recs  map[string]*Record
	dirty bool
}

// Open reads dir's records (none when the file is missing); max <= 0
// takes DefaultMax.
func Open(dir string, max int) (*Registry, error) {
	if max <= 0 {
		max = DefaultMax
	}
	r := &Registry{path: filepath.Join(dir, FileName), max: max, recs: map[string]*Record{}}
	data, err := os.ReadFile(r.path)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var list []*Record
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("discovery: %s is not valid: %w", r.path, err)
	}
	for _, rec := range list {
		r.recs[rec.MAC] = rec
	}
	return r, nil
}

// Observe records a request from a client that no rule gives a profile.
// It keeps what the latest request said, and the first time seen.
func (r *Registry) Observe(req *dhcpv4.DHCPv4, c dhcpwire.Client, now time.Time) {
	rec := FromRequest(req, c)
	if rec.MAC == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.recs[rec.MAC]; old != nil {
		rec.FirstSeen, rec.Requests = old.FirstSeen, old.Requests
		if rec.UUID == "" {
			rec.UUID = old.UUID
		}
	} else {
		rec.FirstSeen = now
		r.evict()
	}
	rec.LastSeen = now
	rec.Requests++
	r.recs[rec.MAC] = &rec
	r.dirty = true
}

// evict drops the record seen longest ago when the registry is full.
func (r *Registry) evict() {
	if len(r.recs) < r.max {
		return
	}
	var oldest *Record
	for _, rec := range r.recs {
		if oldest == nil || rec.LastSeen.Before(oldest.LastSeen) {
			oldest = rec
		}
	}
	delete(r.recs, oldest.MAC)
}

// FromRequest reads a record's facts from a request (times left zero).
func FromRequest(req *dhcpv4.DHCPv4, c dhcpwire.Client) Record {
	f := c.Facts
	rec := Record{Firmware: f.Class.String(), VendorClass: f.VendorClass, UUID: f.UUID, Hostname: f.Hostname}
	if len(f.MAC) == 6 {
		rec.MAC = f.MAC.String()
	}
	if f.HasArch {
		a := uint16(f.Arch)
		rec.Arch, rec.ArchName = &a, f.Arch.String()
	}
	if f.Relay.IsValid() {
		rec.Relay = f.Relay.String()
	}
	if ai := req.RelayAgentInfo(); ai != nil {
		rec.CircuitID = printable(ai.Get(dhcpv4.AgentCircuitIDSubOption))
		rec.RemoteID = printable(ai.Get(dhcpv4.AgentRemoteIDSubOption))
	}
	return rec
}

// printable is b as text when it is printable ASCII, else as hex.
func printable(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	for _, c := range b {
		if c > unicode.MaxASCII || !unicode.IsPrint(rune(c)) {
			return "0x" + hex.EncodeToString(b)
		}
	}
	return string(b)
}

// Get returns the record of mac (lower-case colon form).
func (r *Registry) Get(mac string) (Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.recs[mac]
	if !ok {
		return Record{}, false
	}
	return *rec, true
}

// List returns every record, sorted by MAC.
func (r *Registry) List() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Record, 0, len(r.recs))
	for _, mac := range slices.Sorted(maps.Keys(r.recs)) {
		out = append(out, *r.recs[mac])
	}
	return out
}

// Save writes the records when they changed since the last Save: a
// temporary file, synced, renamed over the old one.
func (r *Registry) Save() error {
	r.mu.Lock()
	if !r.dirty {
		r.mu.Unlock()
		return nil
	}
	list := make([]*Record, 0, len(r.recs))
	for _, mac := range slices.Sorted(maps.Keys(r.recs)) {
		c := *r.recs[mac]
		list = append(list, &c)
	}
	r.dirty = false
	r.mu.Unlock()
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(r.path, append(data, '\n')); err != nil {
		r.mu.Lock()
		r.dirty = true
		r.mu.Unlock()
		return fmt.Errorf("discovery: %w", err)
	}
	return nil
}

// Unknown reports whether inv gives the client no profile by any rule:
// no machine entry naming one, no group, no default_profile. Only
// network-booting clients count.
func Unknown(inv *boot.Inventory, f boot.Facts) bool {
	if inv == nil || f.Class == boot.ClassPlain {
		return false
	}
	d := inv.Decide(f, boot.Server{})
	return d.Profile == nil && d.Source == boot.SourceNone
}
