// Package boot decides, in one place, what a machine gets when it asks to
// boot: which profile (by MAC, group selector or default) and which boot
// program its firmware needs.
package boot

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/rackboot/rackboot/config"
)

// Facts are what a client told us about itself, gathered by a protocol front
// end (DHCP options, an HTTP query). Empty fields are unknown.
type Facts struct {
	MAC      net.HardwareAddr
	UUID     string
	Hostname string
	// Arch is the RFC 4578 client system architecture (DHCP option 93);
	// valid only when HasArch is true.
	Arch    Arch
	HasArch bool
	// Labels are extra key/value facts (an HTTP query's other keys).
	Labels map[string]string
}

// Decision is the outcome of Decide.
type Decision struct {
	// Profile is what the machine boots; nil means no boot (see Reason).
	Profile *config.Profile
	// Machine is the inventory entry matched by MAC, or nil.
	Machine *config.Machine
	// Source says how the profile was chosen: "machine", "group NAME" or
	// "default_profile".
	Source string
	// Reason explains a nil Profile.
	Reason string
}

// Inventory is an immutable, indexed view of a validated config.
type Inventory struct {
	cfg   *config.Config
	byMAC map[string]*config.Machine
}

// NewInventory indexes cfg. cfg must have passed config validation and must
// not be modified afterwards.
func NewInventory(cfg *config.Config) *Inventory {
	inv := &Inventory{cfg: cfg, byMAC: make(map[string]*config.Machine, len(cfg.Machines))}
	for i := range cfg.Machines {
		m := &cfg.Machines[i]
		if m.HWAddr != nil {
			inv.byMAC[m.HWAddr.String()] = m
		}
	}
	return inv
}

// Config returns the configuration the inventory was built from.
func (inv *Inventory) Config() *config.Config { return inv.cfg }

// Machine returns the machine with this MAC address, or nil.
func (inv *Inventory) Machine(mac net.HardwareAddr) *config.Machine {
	if mac == nil {
		return nil
	}
	return inv.byMAC[mac.String()]
}

// Profile returns the named profile, or nil.
func (inv *Inventory) Profile(name string) *config.Profile {
	p, ok := inv.cfg.Profiles[name]
	if !ok {
		return nil
	}
	p.Name = name
	return &p
}

// Decide picks the profile for a client. The order is:
//  1. the machine with the client's MAC, when it names a profile;
//  2. the group whose selector matches the most keys (every key of a
//     selector must match); on a tie the group listed first in the file wins;
//  3. default_profile;
//  4. otherwise no boot, with a reason that lists the identifiers seen.
func (inv *Inventory) Decide(f Facts) Decision {
	m := inv.Machine(f.MAC)
	if m != nil && m.Profile != "" {
		return Decision{Profile: inv.Profile(m.Profile), Machine: m, Source: "machine"}
	}
	attrs := attributes(f, m)
	if g := inv.bestGroup(attrs); g != nil {
		return Decision{Profile: inv.Profile(g.Profile), Machine: m, Source: "group " + g.Name}
	}
	if inv.cfg.DefaultProfile != "" {
		return Decision{Profile: inv.Profile(inv.cfg.DefaultProfile), Machine: m, Source: "default_profile"}
	}
	return Decision{Machine: m, Reason: noMatchReason(m, attrs)}
}

// bestGroup returns the group with the most selector keys all matching attrs.
func (inv *Inventory) bestGroup(attrs map[string]string) *config.Group {
	var best *config.Group
	for i := range inv.cfg.Groups {
		g := &inv.cfg.Groups[i]
		if !selectorMatches(g.Selector, attrs) {
			continue
		}
		if best == nil || len(g.Selector) > len(best.Selector) {
			best = g
		}
	}
	return best
}

// selectorMatches reports whether every key of sel has the same value in
// attrs. MAC values compare case-insensitively.
func selectorMatches(sel, attrs map[string]string) bool {
	for k, want := range sel {
		got, ok := attrs[k]
		if !ok || !strings.EqualFold(got, want) {
			return false
		}
	}
	return true
}

// attributes merges what is known of a client into the flat key space that
// group selectors use: the machine's labels, the client's extra labels, and
// the reserved keys mac, uuid, hostname and arch.
func attributes(f Facts, m *config.Machine) map[string]string {
	a := map[string]string{}
	if m != nil {
		for k, v := range m.Labels {
			a[k] = v
		}
		if m.Hostname != "" {
			a["hostname"] = m.Hostname
		}
		if m.UUID != "" {
			a["uuid"] = m.UUID
		}
	}
	for k, v := range f.Labels {
		if v != "" {
			a[k] = v
		}
	}
	if f.MAC != nil {
		a["mac"] = f.MAC.String()
	}
	if f.UUID != "" {
		a["uuid"] = f.UUID
	}
	if f.Hostname != "" {
		a["hostname"] = f.Hostname
	}
	if f.HasArch {
		a["arch"] = strconv.Itoa(int(f.Arch))
	}
	return a
}

// noMatchReason describes why no profile was chosen.
func noMatchReason(m *config.Machine, attrs map[string]string) string {
	who := "no machine entry"
	if m != nil {
		who = "machine entry without a profile"
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := make([]string, 0, len(keys))
	for _, k := range keys {
		seen = append(seen, k+"="+attrs[k])
	}
	if len(seen) == 0 {
		seen = append(seen, "no identifiers")
	}
	return fmt.Sprintf("%s, no group matched and no default_profile is set (saw %s)", who, strings.Join(seen, " "))
}
