// Package metrics serves rackboot's counters at /metrics in the Prometheus
// text exposition format (version 0.0.4).
package metrics

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Source reads a group of counters: name (snake_case) to value.
type Source func() map[string]uint64

type group struct {
	prefix string
	read   Source
	gauge  bool
}

// Registry is the set of counter groups the server exposes. Groups are
// added at start-up; reading is safe at any time.
type Registry struct {
	mu     sync.Mutex
	groups []group
}

// Add exposes every counter of read as rackboot_<prefix>_<name>_total. A
// name another group already exposes is refused with an error naming it,
// rather than two counters silently summed into one sample.
func (r *Registry) Add(prefix string, read Source) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.groups {
		if g.prefix != prefix {
			continue
		}
		theirs := g.read()
		for name := range read() {
			if _, dup := theirs[name]; dup {
				return fmt.Errorf("metrics: rackboot_%s_%s_total is exposed twice", prefix, name)
			}
		}
	}
	r.groups = append(r.groups, group{prefix: prefix, read: read})
	return nil
}

// AddGauges exposes every value of read as the gauge rackboot_<prefix>_<name>
// (a level such as "degraded" or "buckets", not a running total).
func (r *Registry) AddGauges(prefix string, read Source) error {
	if err := r.Add(prefix, read); err != nil {
		return err
	}
	r.mu.Lock()
	r.groups[len(r.groups)-1].gauge = true
	r.mu.Unlock()
	return nil
}

// ServeHTTP writes every counter, sorted by name.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, r.Text())
}

// Text renders the counters: a "# TYPE" line and a sample for each.
func (r *Registry) Text() string {
	r.mu.Lock()
	groups := append([]group(nil), r.groups...)
	r.mu.Unlock()
	samples := map[string]uint64{}
	types := map[string]string{}
	for _, g := range groups {
		for name, v := range g.read() {
			n, typ := "rackboot_"+g.prefix+"_"+name+"_total", "counter"
			if g.gauge {
				n, typ = "rackboot_"+g.prefix+"_"+name, "gauge"
			}
			samples[n], types[n] = v, typ
		}
	}
	names := make([]string, 0, len(samples))
	for n := range samples {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "# TYPE %s %s\n%s %d\n", n, types[n], n, samples[n])
	}
	return b.String()
}
