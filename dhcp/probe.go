package dhcp

import (
	"net/netip"
	"time"
)

// Prober checks whether an address is in use before it is offered (RFC
// 2131 section 3.1 step 2: the server SHOULD probe, e.g. with ICMP echo).
type Prober interface {
	// InUse reports whether something answered for ip within timeout:
	// ARP on the attached segment, ICMP echo for a relayed subnet.
	InUse(ip netip.Addr, relayed bool, timeout time.Duration) bool
}

// DefaultProbers is how many probes (and the OFFERs waiting on them) may
// run at once; a DISCOVER past that is dropped and the client retries.
const DefaultProbers = 512

// probeRunner runs probes in at most n goroutines at a time.
type probeRunner struct{ sem chan struct{} }

// newProbeRunner returns a runner of at most n concurrent jobs.
func newProbeRunner(n int) *probeRunner { return &probeRunner{sem: make(chan struct{}, max(n, 1))} }

// Go starts f unless n jobs are running already.
func (r *probeRunner) Go(f func()) bool {
	select {
	case r.sem <- struct{}{}:
	default:
		return false
	}
	go func() {
		defer func() { <-r.sem }()
		f()
	}()
	return true
}

// NewProbeRunner returns the function HandlerConfig.Go wants: it runs at
// most n probes at once and refuses more.
func NewProbeRunner(n int) func(func()) bool { return newProbeRunner(n).Go }
