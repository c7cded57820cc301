package config

import "time"

// Timeline configures the per-machine boot timeline (docs/observe.md).
// Zero values take the defaults below.
type Timeline struct {
	// Enabled turns the timeline (and the events the servers emit for
	// it) on; default true. Off, /api/v1/machines lists the inventory only.
	Enabled *bool `yaml:"enabled"`
	// MaxMachines bounds the machines kept; the least recently seen is
	// dropped first.
	MaxMachines int `yaml:"max_machines"`
	// MaxEvents bounds each machine's events; the oldest go first.
	MaxEvents int `yaml:"max_events"`
	// StallAfter is how long a machine mid-boot may stay silent before it
	// is shown as stalled.
	StallAfter Duration `yaml:"stall_after"`
}

// On reports whether the timeline is enabled.
func (t Timeline) On() bool { return t.Enabled == nil || *t.Enabled }

// Timeline defaults and bounds.
const (
	DefaultTimelineMachines = 4096
	DefaultTimelineEvents   = 200
	DefaultStallAfter       = Duration(60 * time.Second)
	maxTimelineMachines     = 1 << 20
	maxTimelineEvents       = 100000
)

// timeline checks the timeline section and fills its defaults.
func (v *validator) timeline() {
	t := &v.cfg.Timeline
	t.MaxMachines = v.boundedInt("timeline.max_machines", t.MaxMachines, DefaultTimelineMachines, maxTimelineMachines)
	t.MaxEvents = v.boundedInt("timeline.max_events", t.MaxEvents, DefaultTimelineEvents, maxTimelineEvents)
	switch {
	case t.StallAfter == 0:
		t.StallAfter = DefaultStallAfter
	case t.StallAfter < Duration(time.Second) || t.StallAfter > Duration(24*time.Hour):
		v.errorf("timeline.stall_after", "%s is out of range (1s-24h; default %s)", t.StallAfter, DefaultStallAfter)
	}
}

// boundedInt returns n, or def when n is 0; out of 1..most it records an
// error at path.
func (v *validator) boundedInt(path string, n, def, most int) int {
	if n == 0 {
		return def
	}
	if n < 0 || n > most {
		v.errorf(path, "%d is out of range (1-%d; default %d)", n, most, def)
	}
	return n
}
