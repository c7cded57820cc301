package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rackboot/rackboot/events"
)

// scrape answers GET /metrics and parses it with the client library's
// text parser, as a Prometheus server would.
func scrape(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, rec.Body.String())
	}
	return fams
}

// value is the sample of fam whose labels include all of labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	fam := fams[name]
	if fam == nil {
		t.Fatalf("%s is not exposed", name)
	}
next:
	for _, m := range fam.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("%s has no sample with %v", name, labels)
	return 0
}

func TestGroups(t *testing.T) {
	var r Registry
	n := uint64(0)
	if err := r.Add("dhcp", func() map[string]uint64 { return map[string]uint64{"offers": n, "pool_exhausted": 2} }); err != nil {
		t.Fatal(err)
	}
	r.Add("tftp", func() map[string]uint64 { return map[string]uint64{"transfers": 5} })
	r.AddGauges("cluster", func() map[string]uint64 { return map[string]uint64{"buckets": 256} })
	n = 7
	fams := scrape(t, &r)
	for name, want := range map[string]float64{"rackboot_dhcp_offers_total": 7, "rackboot_dhcp_pool_exhausted_total": 2,
		"rackboot_tftp_transfers_total": 5, "rackboot_cluster_buckets": 256} {
		if got := value(t, fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if fams["rackboot_dhcp_offers_total"].GetType() != dto.MetricType_COUNTER || fams["rackboot_cluster_buckets"].GetType() != dto.MetricType_GAUGE {
		t.Error("types: counters must be counters, gauges gauges")
	}
	// The standard collectors.
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("%s is missing", name)
		}
	}
}

// TestAddRefusesDuplicates: two sources exposing the same name under one
// prefix (proxyDHCP's two "malformed" counters once were) are an error,
// not one summed sample.
func TestAddRefusesDuplicates(t *testing.T) {
	var r Registry
	if err := r.Add("proxydhcp", func() map[string]uint64 { return map[string]uint64{"malformed": 1, "offers": 2} }); err != nil {
		t.Fatal(err)
	}
	err := r.Add("proxydhcp", func() map[string]uint64 { return map[string]uint64{"malformed": 3} })
	if err == nil || err.Error() != "metrics: rackboot_proxydhcp_malformed_total is exposed twice" {
		t.Fatalf("Add = %v, want the duplicate named", err)
	}
	if err := r.Add("proxydhcp_port67", func() map[string]uint64 { return map[string]uint64{"malformed": 3} }); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, &r)
	if value(t, fams, "rackboot_proxydhcp_malformed_total") != 1 || value(t, fams, "rackboot_proxydhcp_port67_malformed_total") != 3 {
		t.Error("duplicate refused, but the samples are wrong")
	}
}

func TestEventMetrics(t *testing.T) {
	var r Registry
	ev, web := NewEvents(), NewHTTP()
	leases := NewLeases(func() []Usage { return []Usage{{Subnet: "192.0.2.0/24", InUse: 3, Offered: 1, Free: 97}} })
	if err := r.Register(ev, web, leases); err != nil {
		t.Fatal(err)
	}
	ev.Emit(events.Event{Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER"})
	ev.Emit(events.Event{Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER"})
	ev.Emit(events.Event{Kind: events.KindDHCP, Message: "REQUEST"})
	ev.Emit(events.Event{Kind: events.KindProxyDHCP, Message: "REQUEST", Reply: "ACK"})
	ev.Emit(events.Event{Kind: events.KindTFTP, File: "undionly.kpxe"})
	ev.Emit(events.Event{Kind: events.KindTFTP, File: "x", Status: 1, Error: "file not found"})
	ev.Emit(events.Event{Kind: events.KindTFTP, Status: 0, Error: "server busy: 2000 transfers in progress, try again later"})
	ev.Boot("booted", 27*time.Second)
	ev.Boot("stalled", time.Minute)
	web.Observe("assets", 200, 1000)
	web.Observe("assets", 404, 19)
	web.Observe("ipxe", 200, 300)
	fams := scrape(t, &r)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"rackboot_dhcp_messages_total", []string{"type", "DISCOVER", "reply", "OFFER"}, 2},
		{"rackboot_dhcp_messages_total", []string{"type", "REQUEST", "reply", "none"}, 1},
		{"rackboot_proxydhcp_messages_total", []string{"type", "REQUEST", "reply", "ACK"}, 1},
		{"rackboot_tftp_requests_total", []string{"outcome", "ok"}, 1},
		{"rackboot_tftp_requests_total", []string{"outcome", "not_found"}, 1},
		{"rackboot_tftp_requests_total", []string{"outcome", "busy"}, 1},
		{"rackboot_boots_total", []string{"outcome", "booted"}, 1},
		{"rackboot_boots_total", []string{"outcome", "stalled"}, 1},
		{"rackboot_boot_duration_seconds", nil, 1},
		{"rackboot_http_requests_total", []string{"endpoint", "assets", "code", "404"}, 1},
		{"rackboot_http_response_bytes_total", []string{"endpoint", "assets"}, 1019},
		{"rackboot_dhcp_leases", []string{"subnet", "192.0.2.0/24", "state", "in_use"}, 3},
		{"rackboot_dhcp_leases", []string{"subnet", "192.0.2.0/24", "state", "free"}, 97},
	} {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	h := fams["rackboot_boot_duration_seconds"].Metric[0].Histogram
	if h.GetSampleSum() != 27 {
		t.Errorf("boot duration sum = %v, want 27", h.GetSampleSum())
	}
}
