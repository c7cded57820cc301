package dhcp

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// refillAndSettle runs one probe-ahead round on every subnet and waits
// until its probes have answered.
func (f *fixture) refillAndSettle() {
	f.t.Helper()
	for _, sn := range f.h.subnets {
		f.h.refill(sn)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, sn := range f.h.subnets {
		for {
			if _, probingN := sn.pool.AheadCounts(); probingN == 0 {
				break
			}
			if time.Now().After(deadline) {
				f.t.Fatal("probes ahead of demand did not finish")
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// onSegment returns the probes of the attached subnet, 192.0.2.0/24.
func (p *fakeProber) onSegment() []netip.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []netip.Addr
	for _, ip := range p.probed {
		if netip.MustParsePrefix("192.0.2.0/24").Contains(ip) {
			out = append(out, ip)
		}
	}
	return out
}

// noInlineProbes fails the test when a DISCOVER hands a probe to Go.
func noInlineProbes(t *testing.T) func(func()) bool {
	return func(func()) bool {
		t.Error("an OFFER waited for a probe on the request path")
		return false
	}
}

func TestProbeAheadOffersAtOnce(t *testing.T) {
	p := &fakeProber{busy: map[netip.Addr]bool{}}
	f := newFixture(t, func(hc *HandlerConfig) { hc.Prober = p; hc.Go = noInlineProbes(t) })
	f.refillAndSettle()
	pool := f.h.subnets[0].pool
	if readyN, _ := pool.AheadCounts(); readyN != 1 {
		t.Fatalf("%d addresses ready, want 1 (a quarter of the 3-address pool, at least 1)", readyN)
	}
	probed := len(p.onSegment())
	got := f.discover(mac(1)) // fails the test if no OFFER came back at once
	if !testSubnetPool(got) {
		t.Errorf("offered %s, outside the pool", got)
	}
	if n := f.h.Metrics.OffersReady.Load(); n != 1 {
		t.Errorf("offers_ready = %d, want 1", n)
	}
	if len(p.onSegment()) != probed {
		t.Errorf("the DISCOVER probed %v", p.onSegment()[probed:])
	}
	if ip := f.bind(mac(1)); ip != got {
		t.Errorf("bound %s, offered %s", ip, got)
	}
}

func TestProbeAheadQuarantinesConflicts(t *testing.T) {
	busy := netip.MustParseAddr("192.0.2.100")
	p := &fakeProber{busy: map[netip.Addr]bool{busy: true}}
	f := newFixture(t, func(hc *HandlerConfig) { hc.Prober = p; hc.Go = noInlineProbes(t) })
	f.refillAndSettle() // .100 answers and is quarantined
	f.refillAndSettle() // .101 is ready
	if n := f.h.Metrics.Conflicts.Load(); n != 1 {
		t.Errorf("conflicts = %d, want 1", n)
	}
	if got := f.discover(mac(1)); got != netip.MustParseAddr("192.0.2.101") {
		t.Errorf("offered %s, want 192.0.2.101 (.100 answered its probe)", got)
	}
	f.refillAndSettle()
	if got := f.discover(mac(2)); got == busy {
		t.Errorf("offered the address that answered a probe")
	}
}

// inlineFixture is a fixture with conflict detection whose request-path
// probes run inline and are counted.
func inlineFixture(t *testing.T) (*fakeProber, *fixture, *int) {
	p := &fakeProber{busy: map[netip.Addr]bool{}}
	inline := new(int)
	f := newFixture(t, func(hc *HandlerConfig) {
		hc.Prober = p
		hc.Go = func(job func()) bool { *inline++; job(); return true }
	})
	return p, f, inline
}

func TestProbeAheadStale(t *testing.T) {
	p, f, inline := inlineFixture(t)
	f.refillAndSettle()
	first := p.onSegment()
	// Past half the freshness limit the ready address is probed again.
	f.clock.Add(DefaultProbeFresh/2 + time.Second)
	f.refillAndSettle()
	if got := p.onSegment(); len(first) != 1 || len(got) != 2 || got[1] != first[0] {
		t.Fatalf("probes %v, want %v probed again", got, first)
	}
	// Past the limit without a new probe it is not offered as ready: the
	// OFFER falls back to a probe on the request path.
	f.clock.Add(DefaultProbeFresh + time.Second)
	f.discover(mac(1))
	if *inline != 1 || f.h.Metrics.OffersProbed.Load() != 1 || f.h.Metrics.OffersReady.Load() != 0 {
		t.Errorf("stale set: %d inline probes, offers_probed %d, offers_ready %d; want 1, 1, 0",
			*inline, f.h.Metrics.OffersProbed.Load(), f.h.Metrics.OffersReady.Load())
	}
}

func TestProbeAheadEmptyFallsBack(t *testing.T) {
	_, f, inline := inlineFixture(t)
	f.refillAndSettle()
	f.discover(mac(1)) // takes the one ready address
	f.discover(mac(2)) // the set is empty: probe on the request path
	if *inline != 1 || f.h.Metrics.OffersReady.Load() != 1 || f.h.Metrics.OffersProbed.Load() != 1 {
		t.Errorf("%d inline probes, offers_ready %d, offers_probed %d; want 1, 1, 1",
			*inline, f.h.Metrics.OffersReady.Load(), f.h.Metrics.OffersProbed.Load())
	}
}

func TestProbeAheadNeverTakesHeldAddresses(t *testing.T) {
	p := &fakeProber{busy: map[netip.Addr]bool{}}
	f := newFixture(t, func(hc *HandlerConfig) {
		hc.Prober = p
		hc.Go = func(job func()) bool { job(); return true }
	})
	held := map[netip.Addr]bool{f.bind(mac(1)): true, f.discover(mac(2)): true}
	before := len(p.onSegment())
	f.refillAndSettle()
	got := p.onSegment()
	if len(got) != before+1 {
		t.Fatalf("probed %v ahead of demand, want the one free address", got[before:])
	}
	if ip := got[before]; held[ip] {
		t.Errorf("probed %s ahead of demand, which a client holds", ip)
	}
}

// TestDiscoverFlood: 100,000 DISCOVERs from random MACs that never
// REQUEST. Every one is answered (the pool reclaims its oldest offers
// instead of running dry), the pool's records stay bounded by its size,
// offers lapse, and a client that then asks gets an address.
func TestDiscoverFlood(t *testing.T) {
	t.Run("no conflict detection", func(t *testing.T) { testDiscoverFlood(t, false) })
	t.Run("probed ahead", func(t *testing.T) { testDiscoverFlood(t, true) })
}

func testDiscoverFlood(t *testing.T, probe bool) {
	f := newFixtureYAML(t, testYAML("demo", `
  - cidr: 192.0.2.0/24
    range: 192.0.2.10-192.0.2.250
    lease_time: 1h
`), func(hc *HandlerConfig) {
		if probe {
			hc.Prober = &fakeProber{busy: map[netip.Addr]bool{}}
			hc.Go = func(job func()) bool { job(); return true }
		}
	})
	pool := f.h.subnets[0].pool
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 100_000 {
		hw := net.HardwareAddr{2, byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}
		if r := f.do(dhcpv4.MessageTypeDiscover, hw); r == nil {
			t.Fatalf("DISCOVER %d got no OFFER", i)
		}
		f.clock.Add(time.Millisecond) // 1,000 DISCOVERs a second
		if i%10_000 == 0 {
			f.h.Sweep()
		}
		if probe && i%1_000 == 0 {
			f.refillAndSettle()
		}
		pool.mu.Lock()
		records, clients, queued := len(pool.byIP), len(pool.byKey), pool.offerQ.len()+pool.readyQ.len()
		pool.mu.Unlock()
		if records > pool.Size() || clients > pool.Size() || queued > 2*pool.Size()+1024+1 {
			t.Fatalf("after %d DISCOVERs: %d records, %d clients, %d queued, for a pool of %d", i+1, records, clients, queued, pool.Size())
		}
	}
	if n := f.h.Metrics.PoolExhausted.Load(); n != 0 {
		t.Errorf("pool_exhausted = %d, want 0", n)
	}
	if got := f.bind(mac(1)); !got.IsValid() {
		t.Fatal("a client after the flood got no address")
	}
	f.clock.Add(DefaultOfferHold + time.Second)
	if probe {
		f.refillAndSettle() // lapsed offers, not yet swept, are probed ahead
	}
	f.h.Sweep()
	pool.mu.Lock()
	defer pool.mu.Unlock()
	held := 0
	for _, l := range pool.byIP {
		if l.state == offered || l.state == bound {
			held++
		}
	}
	if held != 1 || len(pool.byKey) != 1 {
		t.Errorf("after the offers lapsed: %d addresses held, %d clients known, want 1 and 1 (the binding)", held, len(pool.byKey))
	}
}
