package config

import (
	"strings"
	"testing"
	"time"
)

func TestTimelineKeys(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte("timeline:\n  max_machines: 10\n  stall_after: 2m\n"))
	if err != nil {
		t.Fatal(err)
	}
	tl := cfg.Timeline
	if tl.MaxMachines != 10 || tl.MaxEvents != DefaultTimelineEvents || time.Duration(tl.StallAfter) != 2*time.Minute {
		t.Errorf("timeline = %+v", tl)
	}
	for in, want := range map[string]string{
		"timeline:\n  max_events: -1\n":    "x.yaml:2: timeline.max_events: -1 is out of range (1-100000; default 200)",
		"timeline:\n  stall_after: 10ms\n": "x.yaml:2: timeline.stall_after: 10ms is out of range (1s-24h; default 1m0s)",
		"timeline:\n  max_machines: 1e9\n": "timeline.max_machines",
		"timeline:\n  max_sightings: 1\n":  "timeline.max_sightings",
	} {
		_, err := Parse("x.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}
