package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rackboot/rackboot/events"
)

// Events counts the servers' events (an events.Sink) by kind and outcome,
// and the boots by outcome with their duration:
//
//	rackboot_dhcp_messages_total{type,reply}       full DHCP: DISCOVER, REQUEST, ...; OFFER, ACK, NAK or none
//	rackboot_proxydhcp_messages_total{type,reply}  the same for proxyDHCP
//	rackboot_tftp_requests_total{outcome}          ok, not_found, access_denied, busy, failed
//	rackboot_boots_total{outcome}                  booted, failed, stalled
//	rackboot_boot_duration_seconds                 first DHCP request to the booted report
//
// Emit takes no lock of its own: the client library's counters are atomic.
type Events struct {
	dhcp, proxy *prometheus.CounterVec
	tftp        *prometheus.CounterVec
	boots       *prometheus.CounterVec
	took        prometheus.Histogram
}

var _ events.Sink = (*Events)(nil)

// BootBuckets are the boot-duration histogram's buckets, in seconds: a VM
// boots in 25-60 s here, real servers in minutes.
var BootBuckets = []float64{5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800}

// NewEvents returns the event metrics; register them with Registry.Register.
func NewEvents() *Events {
	return &Events{
		dhcp: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rackboot_dhcp_messages_total",
			Help: "DHCP requests by message type and the reply sent (none: ignored or dropped)."}, []string{"type", "reply"}),
		proxy: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rackboot_proxydhcp_messages_total",
			Help: "proxyDHCP requests by message type and the reply sent (none: ignored)."}, []string{"type", "reply"}),
		tftp: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rackboot_tftp_requests_total",
			Help: "TFTP read requests by outcome: ok, not_found, access_denied, busy, failed."}, []string{"outcome"}),
		boots: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rackboot_boots_total",
			Help: "Boots that ended, by outcome: booted, failed (reported), stalled (no request for timeline.stall_after)."}, []string{"outcome"}),
		took: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rackboot_boot_duration_seconds",
			Help: "Time from a boot's first DHCP request to its booted report.", Buckets: BootBuckets}),
	}
}

// Emit counts one event.
func (m *Events) Emit(ev events.Event) {
	switch ev.Kind {
	case events.KindDHCP:
		m.dhcp.WithLabelValues(ev.Message, replyLabel(ev.Reply)).Inc()
	case events.KindProxyDHCP:
		m.proxy.WithLabelValues(ev.Message, replyLabel(ev.Reply)).Inc()
	case events.KindTFTP:
		m.tftp.WithLabelValues(tftpOutcome(ev)).Inc()
	}
}

// Boot counts a boot that ended or stalled (the timeline's Outcome hook);
// took is observed for booted ones.
func (m *Events) Boot(outcome string, took time.Duration) {
	m.boots.WithLabelValues(outcome).Inc()
	if outcome == "booted" && took > 0 {
		m.took.Observe(took.Seconds())
	}
}

func replyLabel(r string) string {
	if r == "" {
		return "none"
	}
	return r
}

// tftpOutcome names a transfer's outcome from its RFC 1350 error code.
func tftpOutcome(ev events.Event) string {
	switch {
	case ev.Error == "":
		return "ok"
	case ev.Status == 1:
		return "not_found"
	case ev.Status == 2:
		return "access_denied"
	case len(ev.Error) >= 11 && ev.Error[:11] == "server busy":
		return "busy"
	}
	return "failed"
}

// Describe implements prometheus.Collector.
func (m *Events) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Events) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *Events) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.dhcp, m.proxy, m.tftp, m.boots, m.took}
}

// HTTP counts the HTTP server's requests:
//
//	rackboot_http_requests_total{endpoint,code}
//	rackboot_http_response_bytes_total{endpoint}
//
// endpoint is one of a fixed set (httpboot.Endpoint), never a raw path.
type HTTP struct {
	reqs  *prometheus.CounterVec
	bytes *prometheus.CounterVec
}

// NewHTTP returns the HTTP metrics; register them with Registry.Register.
func NewHTTP() *HTTP {
	return &HTTP{
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rackboot_http_requests_total",
			Help: "HTTP requests by endpoint and status code."}, []string{"endpoint", "code"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rackboot_http_response_bytes_total",
			Help: "HTTP response body bytes by endpoint."}, []string{"endpoint"}),
	}
}

// Observe counts one request.
func (m *HTTP) Observe(endpoint string, status int, bytes int64) {
	m.reqs.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.bytes.WithLabelValues(endpoint).Add(float64(bytes))
}

// Describe implements prometheus.Collector.
func (m *HTTP) Describe(ch chan<- *prometheus.Desc) { m.reqs.Describe(ch); m.bytes.Describe(ch) }

// Collect implements prometheus.Collector.
func (m *HTTP) Collect(ch chan<- prometheus.Metric) { m.reqs.Collect(ch); m.bytes.Collect(ch) }

// Usage is one subnet's pool, for the lease gauges.
type Usage struct {
	Subnet                            string
	InUse, Offered, Quarantined, Free int
}

// Leases exposes rackboot_dhcp_leases{subnet,state} (state in_use,
// offered, quarantined, free), read from read at each scrape.
type Leases struct {
	read func() []Usage
	desc *prometheus.Desc
}

// NewLeases returns the lease gauges over read.
func NewLeases(read func() []Usage) *Leases {
	return &Leases{read: read, desc: prometheus.NewDesc("rackboot_dhcp_leases",
		"Addresses of each subnet's pool by state: in_use (bound), offered, quarantined, free.", []string{"subnet", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (l *Leases) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

// Collect implements prometheus.Collector.
func (l *Leases) Collect(ch chan<- prometheus.Metric) {
	for _, u := range l.read() {
		for _, s := range []struct {
			state string
			n     int
		}{{"in_use", u.InUse}, {"offered", u.Offered}, {"quarantined", u.Quarantined}, {"free", u.Free}} {
			ch <- prometheus.MustNewConstMetric(l.desc, prometheus.GaugeValue, float64(s.n), u.Subnet, s.state)
		}
	}
}
