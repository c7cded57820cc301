package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/discovery"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/timeline"
)

// StateUnseen is the state of a machine in the inventory that rackboot
// has not heard from (since its timeline began).
const StateUnseen timeline.State = "unseen"

// Machine is one machine as the API shows it: what the timeline saw, plus
// what the inventory says.
type Machine struct {
	timeline.Machine
	// Reason says why it gets its profile ("machine", "group rack-a",
	// "default_profile") or why it gets none.
	Reason string `json:"reason,omitempty"`
	// InInventory is true when the inventory lists the MAC.
	InInventory bool `json:"in_inventory"`
	// Discovered is what the wire told about a machine that booted with
	// no rule giving it a profile; while none does, its state is
	// "discovered".
	Discovered *discovery.Record `json:"discovered,omitempty"`
}

// machinesBody is GET /api/v1/machines.
type machinesBody struct {
	Machines []Machine `json:"machines"`
	// Timeline is false when the timeline is off: no states.
	Timeline bool `json:"timeline"`
}

// serveMachines answers GET /api/v1/machines; ?state=S keeps the
// machines in state S (discovered, unseen, booted, ...).
func (a *API) serveMachines(w http.ResponseWriter, r *http.Request) {
	ms := a.Machines()
	if st := r.URL.Query().Get("state"); st != "" {
		kept := ms[:0]
		for _, m := range ms {
			if string(m.State) == st {
				kept = append(kept, m)
			}
		}
		ms = kept
	}
	JSON(w, http.StatusOK, machinesBody{Machines: ms, Timeline: a.o.Timeline != nil})
}

// Machines lists every machine seen on the wire or in the inventory,
// sorted by MAC.
func (a *API) Machines() []Machine {
	var seen []timeline.Machine
	if a.o.Timeline != nil {
		seen = a.o.Timeline.Machines()
	}
	inv := a.o.Inventory()
	out := make([]Machine, 0, len(seen))
	have := make(map[string]bool, len(seen))
	for _, m := range seen {
		have[m.MAC] = true
		out = append(out, a.complete(inv, m))
	}
	if inv != nil {
		for _, cm := range inv.Config().Machines {
			if cm.HWAddr == nil || have[cm.HWAddr.String()] {
				continue
			}
			have[cm.HWAddr.String()] = true
			out = append(out, a.complete(inv, timeline.Machine{MAC: cm.HWAddr.String(), State: StateUnseen}))
		}
	}
	if a.o.Discovered != nil {
		for _, rec := range a.o.Discovered.List() {
			if !have[rec.MAC] {
				have[rec.MAC] = true
				out = append(out, a.complete(inv, seenMachine(rec)))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MAC < out[j].MAC })
	return out
}

// complete adds the inventory's view to what the timeline saw: hostname
// and fixed address when not seen, and the profile the machine would get
// now when it got none yet.
func (a *API) complete(inv *boot.Inventory, m timeline.Machine) Machine {
	out := Machine{Machine: m, Reason: via(m.Via, m.Group)}
	if inv == nil {
		return out
	}
	mac, err := events.ParseMAC(m.MAC)
	if err != nil {
		return out
	}
	hw := mac[:]
	cm := inv.Machine(hw)
	out.InInventory = cm != nil
	if cm != nil {
		if out.Hostname == "" {
			out.Hostname = cm.Hostname
		}
		if out.Addr == "" && cm.Addr.IsValid() {
			out.Addr = cm.Addr.String()
		}
	}
	if out.Profile == "" {
		d := inv.Decide(boot.Facts{MAC: hw, Class: boot.ClassIPXE}, boot.Server{})
		out.Reason = d.Reason
		if d.Profile != nil {
			out.Profile, out.Via, out.Group, out.Reason = d.Profile.Name, d.Source.String(), d.Group, d.Via()
		}
	}
	a.discovered(inv, &out)
	return out
}

// via is the reason text of a profile choice.
func via(v, group string) string {
	if v == "group" && group != "" {
		return "group " + group
	}
	return v
}

// machineBody is GET /api/v1/machines/MAC.
type machineBody struct {
	Machine
	Events []timeline.Entry `json:"events"`
}

func (a *API) serveMachine(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("mac")
	mac, err := events.ParseMAC(raw)
	if err != nil {
		Error(w, http.StatusBadRequest, "bad MAC "+quote(raw)+": use six hex bytes such as 52:54:00:12:34:56")
		return
	}
	m, ok := a.Machine(mac)
	if !ok {
		Error(w, http.StatusNotFound, "machine "+mac.String()+" is neither in the inventory nor seen on the network")
		return
	}
	evs := m.Events
	if evs == nil {
		evs = []timeline.Entry{}
	}
	m.Events = nil
	JSON(w, http.StatusOK, machineBody{Machine: m, Events: evs})
}

// Machine returns one machine with its events; false when it is neither
// seen nor in the inventory.
func (a *API) Machine(mac events.MAC) (Machine, bool) {
	inv := a.o.Inventory()
	var m timeline.Machine
	ok := false
	if a.o.Timeline != nil {
		m, ok = a.o.Timeline.Machine(mac)
	}
	if !ok && inv != nil && inv.Machine(mac[:]) != nil {
		m, ok = timeline.Machine{MAC: mac.String(), State: StateUnseen}, true
	}
	if !ok && a.o.Discovered != nil {
		var rec discovery.Record
		if rec, ok = a.o.Discovered.Get(mac.String()); ok {
			m = seenMachine(rec)
		}
	}
	if !ok {
		return Machine{}, false
	}
	return a.complete(inv, m), true
}

// seenMachine is a discovered machine the timeline does not hold (it is
// off, or forgot it).
func seenMachine(rec discovery.Record) timeline.Machine {
	return timeline.Machine{MAC: rec.MAC, State: timeline.StateDiscovered, Hostname: rec.Hostname,
		FirstSeen: rec.FirstSeen, LastSeen: rec.LastSeen, Firmware: rec.Firmware, Arch: rec.Arch}
}

// quote shows a user's value in a message, shortened.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// discovered attaches the discovery record and, while no rule gives the
// machine a profile (it is not adopted yet), says its state is
// discovered.
func (a *API) discovered(inv *boot.Inventory, m *Machine) {
	if a.o.Discovered == nil {
		return
	}
	rec, ok := a.o.Discovered.Get(m.MAC)
	if !ok {
		return
	}
	m.Discovered = &rec
	mac, err := events.ParseMAC(m.MAC)
	if err != nil {
		return
	}
	if d := inv.Decide(boot.Facts{MAC: mac[:], Class: boot.ClassIPXE}, boot.Server{}); d.Profile == nil && d.Source == boot.SourceNone {
		m.State = timeline.StateDiscovered
	}
}
