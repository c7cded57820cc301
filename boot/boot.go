// Package boot makes the whole boot decision for every protocol: from the
// facts a client told a front end (DHCP, TFTP, HTTP) it picks the profile
// (machine, group selector, default) and the next step (which boot program,
// script URL or PXELINUX config), with the reason as a typed value.
package boot

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/rackboot/rackboot/config"
)

// Inventory is an immutable, indexed view of a validated config: machines
// by MAC, UUID and fixed IPv4 and IPv6 address.
type Inventory struct {
	cfg    *config.Config
	byMAC  map[string]*config.Machine
	byUUID map[string]*config.Machine
	byAddr map[netip.Addr]*config.Machine
	// profiles are cfg's profiles with their Name set, so that Profile
	// copies none per request.
	profiles map[string]*config.Profile
}

// NewInventory indexes cfg. cfg must have passed config validation and must
// not be modified afterwards. Where two machines share a UUID or address
// (validation refuses both), the first listed wins.
func NewInventory(cfg *config.Config) *Inventory {
	n := len(cfg.Machines)
	inv := &Inventory{cfg: cfg, byMAC: make(map[string]*config.Machine, n),
		byUUID: make(map[string]*config.Machine), byAddr: make(map[netip.Addr]*config.Machine),
		profiles: make(map[string]*config.Profile, len(cfg.Profiles))}
	for name, p := range cfg.Profiles {
		p.Name = name
		inv.profiles[name] = &p
	}
	for i := range cfg.Machines {
		m := &cfg.Machines[i]
		if m.HWAddr != nil {
			inv.byMAC[m.HWAddr.String()] = m
		}
		if u := strings.ToLower(m.UUID); u != "" && inv.byUUID[u] == nil {
			inv.byUUID[u] = m
		}
		for _, a := range []netip.Addr{m.Addr, m.Addr6} {
			if a.IsValid() && inv.byAddr[a] == nil {
				inv.byAddr[a] = m
			}
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

// MachineByUUID returns the machine with this UUID (any case), or nil.
func (inv *Inventory) MachineByUUID(uuid string) *config.Machine {
	return inv.byUUID[strings.ToLower(uuid)]
}

// MachineByAddr returns the machine whose fixed ipv4 or ipv6 is a, or nil
// (also for an invalid a, which no machine has).
func (inv *Inventory) MachineByAddr(a netip.Addr) *config.Machine {
	return inv.byAddr[a]
}

// Profile returns the named profile, or nil. The profile is shared, like
// the inventory: callers must not modify it.
func (inv *Inventory) Profile(name string) *config.Profile {
	return inv.profiles[name]
}

// Decide says what a client gets: the profile, then the next step for
// its class.
//
// The profile, in this order:
//  1. the machine with the client's MAC, when it names a profile;
//  2. the group whose selector matches the most keys (every key of a
//     selector must match); on a tie the group listed first in the file wins;
//  3. default_profile;
//  4. otherwise none, with a reason that lists the identifiers seen.
//
// The next step (see Next) is:
//   - PXELINUX asking for its config: a generated pxelinux.cfg (kernel
//     profiles only);
//   - a profile with loader: pxelinux and a BIOS PXE or iPXE client:
//     pxelinux.0 (lpxelinux.0 when a kernel or initrd is a URL) over TFTP;
//   - iPXE: the URL of its script, so it never loads iPXE again;
//   - PXE firmware: the iPXE build for its architecture (option 93; a ROM
//     that sends none is taken for BIOS) over TFTP;
//   - UEFI HTTP Boot firmware: the URL of that iPXE build;
//   - nothing, with the reason, for a client that does not network boot,
//     gets no profile, asks with the method its boot_method rules out, or
//     has no boot program that s can serve.
func (inv *Inventory) Decide(f Facts, s Server) Decision {
	d := inv.choose(f)
	d.Next = inv.next(f, d, s)
	return d
}

// choose picks the profile (steps 1-4 of Decide).
func (inv *Inventory) choose(f Facts) Decision {
	m := inv.Machine(f.MAC)
	attrs := clientAttrs{f: f, m: m}
	d := Decision{Machine: m, SecureBoot: inv.secureBoot(m, attrs)}
	name := ""
	if m != nil && m.Profile != "" {
		d.Source, name = SourceMachine, m.Profile
	} else {
		switch g := inv.bestGroup(attrs); {
		case g != nil:
			d.Source, d.Group, name = SourceGroup, g.Name, g.Profile
		case inv.cfg.DefaultProfile != "":
			d.Source, name = SourceDefault, inv.cfg.DefaultProfile
		default:
			d.Reason = noMatchReason(m, attrs.all())
			return d
		}
	}
	if d.Profile = inv.Profile(name); d.Profile == nil {
		d.Reason = fmt.Sprintf("the profile %q chosen by %s does not exist", name, d.Via())
	}
	return d
}

// bestGroup returns the group with the most selector keys all matching attrs.
func (inv *Inventory) bestGroup(attrs clientAttrs) *config.Group {
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
func selectorMatches(sel map[string]string, attrs clientAttrs) bool {
	for k, want := range sel {
		got, ok := attrs.get(k)
		if !ok || !strings.EqualFold(got, want) {
			return false
		}
	}
	return true
}

// clientAttrs is what is known of a client in the flat key space that
// group selectors use: the machine's labels, the client's extra labels,
// and the reserved keys mac, uuid, hostname and arch. Selectors read it
// one key at a time (get), so that matching them builds no map.
type clientAttrs struct {
	f Facts
	m *config.Machine
}

// reservedKeys are the keys clientAttrs fills from Facts and Machine
// fields rather than labels.
var reservedKeys = [...]string{"hostname", "uuid", "mac", "arch"}

// get is one key's value. The client's facts win over its extra labels,
// which win over the machine's hostname and uuid, which win over the
// machine's labels.
func (a clientAttrs) get(key string) (string, bool) {
	f, m := &a.f, a.m
	switch {
	case key == "arch" && f.HasArch:
		return strconv.Itoa(int(f.Arch)), true
	case key == "hostname" && f.Hostname != "":
		return f.Hostname, true
	case key == "uuid" && f.UUID != "":
		return f.UUID, true
	case key == "mac" && f.MAC != nil:
		return f.MAC.String(), true
	}
	if v := f.Labels[key]; v != "" {
		return v, true
	}
	if m == nil {
		return "", false
	}
	switch {
	case key == "hostname" && m.Hostname != "":
		return m.Hostname, true
	case key == "uuid" && m.UUID != "":
		return m.UUID, true
	}
	v, ok := m.Labels[key]
	return v, ok
}

// all is every key with a value, as a map (for noMatchReason).
func (a clientAttrs) all() map[string]string {
	out := map[string]string{}
	add := func(k string) {
		if v, ok := a.get(k); ok {
			out[k] = v
		}
	}
	for _, k := range reservedKeys {
		add(k)
	}
	for k := range a.f.Labels {
		add(k)
	}
	if a.m != nil {
		for k := range a.m.Labels {
			add(k)
		}
	}
	return out
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
