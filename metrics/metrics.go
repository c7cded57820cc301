// Package metrics serves rackboot's metrics at /metrics with the
// Prometheus client library (github.com/prometheus/client_golang): the
// servers' running counters (rackboot_<group>_<name>_total, read from
// their snapshots at each scrape), the metrics derived from the boot events
// (Events), the lease gauges (Leases), and the Go and process collectors.
// README.md and docs/observe.md list every name.
package metrics

import (
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Source reads a group of counters: name (snake_case) to value.
type Source func() map[string]uint64

type group struct {
	prefix string
	read   Source
	gauge  bool
}

// Registry is what /metrics exposes. Groups and collectors are added at
// start-up; scraping is safe at any time. The zero value is ready to use.
type Registry struct {
	once   sync.Once
	reg    *prometheus.Registry
	mu     sync.Mutex
	groups []group
}

func (r *Registry) init() {
	r.once.Do(func() {
		r.reg = prometheus.NewRegistry()
		r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			groupCollector{r})
	})
}

// Add exposes every counter of read as rackboot_<prefix>_<name>_total. A
// name another group already exposes is refused with an error naming it,
// rather than two counters silently summed into one sample.
func (r *Registry) Add(prefix string, read Source) error {
	return r.add(group{prefix: prefix, read: read})
}

// AddGauges exposes every value of read as the gauge rackboot_<prefix>_<name>
// (a level such as "degraded" or "buckets", not a running total).
func (r *Registry) AddGauges(prefix string, read Source) error {
	return r.add(group{prefix: prefix, read: read, gauge: true})
}

func (r *Registry) add(g group) error {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.groups {
		if o.prefix != g.prefix || o.gauge != g.gauge {
			continue
		}
		theirs := o.read()
		for name := range g.read() {
			if _, dup := theirs[name]; dup {
				return fmt.Errorf("metrics: %s is exposed twice", g.name(name))
			}
		}
	}
	r.groups = append(r.groups, g)
	return nil
}

// Register adds collectors (Events, Leases, or any other).
func (r *Registry) Register(cs ...prometheus.Collector) error {
	r.init()
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}

// Gatherer is the registry, for tests and other exporters.
func (r *Registry) Gatherer() prometheus.Gatherer {
	r.init()
	return r.reg
}

// ServeHTTP answers a scrape in the format the scraper asks for (the text
// format by default). A failing collector is logged in the answer and the
// rest still served.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.init()
	promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, req)
}

// name is a group's metric name for one of its values.
func (g group) name(n string) string {
	if g.gauge {
		return "rackboot_" + g.prefix + "_" + n
	}
	return "rackboot_" + g.prefix + "_" + n + "_total"
}

// groupCollector reads every group at each scrape. It describes nothing
// up front (an unchecked collector): the names are known only once the
// servers have started.
type groupCollector struct{ r *Registry }

func (groupCollector) Describe(chan<- *prometheus.Desc) {}

func (c groupCollector) Collect(ch chan<- prometheus.Metric) {
	c.r.mu.Lock()
	groups := append([]group(nil), c.r.groups...)
	c.r.mu.Unlock()
	for _, g := range groups {
		vals := g.read()
		names := make([]string, 0, len(vals))
		for n := range vals {
			names = append(names, n)
		}
		sort.Strings(names)
		typ, kind := prometheus.CounterValue, "counter"
		if g.gauge {
			typ, kind = prometheus.GaugeValue, "gauge"
		}
		for _, n := range names {
			desc := prometheus.NewDesc(g.name(n), fmt.Sprintf("rackboot %s %s %q (docs/observe.md)", g.prefix, kind, n), nil, nil)
			ch <- prometheus.MustNewConstMetric(desc, typ, float64(vals[n]))
		}
	}
}
