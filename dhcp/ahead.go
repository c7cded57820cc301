package dhcp

import (
	"context"
	"net/netip"
	"time"

	"github.com/sirupsen/logrus"
)

// Conflict detection ahead of demand. RFC 2131 section 3.1 step 2 says a
// server SHOULD probe an address before it offers it; done on the request
// path that costs every new client a probe timeout (300 ms by default).
// Instead each pool keeps a small set of free addresses that were probed
// a moment ago and found free ("ready"), and an OFFER to a new client
// takes one at once. A background loop keeps the set full and re-probes
// addresses that have waited longer than half the freshness limit; one
// older than the limit is no longer offered without a new probe. Only
// when the set is empty (a burst larger than it) does an OFFER wait for a
// probe on the request path, as before.

// Defaults of probe-ahead (HandlerConfig.ProbeAhead, ProbeFresh).
const (
	// DefaultProbeAhead caps the ready set of a pool; a pool holds at
	// most a quarter of its addresses ready.
	DefaultProbeAhead = 1024
	// DefaultProbeFresh is how long a probe's answer stays good.
	DefaultProbeFresh = time.Minute
	// probeAheadTick is how often the loop tops the sets up; it also
	// runs as soon as OFFERs took half of a set (kickAhead).
	probeAheadTick = 100 * time.Millisecond
)

// leaseQueue is a FIFO of leases; entries whose lease moved on are
// skipped by the reader, and compacted away when they pile up.
type leaseQueue struct {
	q    []*lease
	head int
}

func (q *leaseQueue) push(l *lease) { q.q = append(q.q, l) }

func (q *leaseQueue) len() int { return len(q.q) - q.head }

// pop returns the oldest entry for which live holds, dropping the dead
// ones before it; nil when none is left.
func (q *leaseQueue) pop(live func(*lease) bool) *lease {
	for q.head < len(q.q) {
		l := q.q[q.head]
		q.q[q.head] = nil
		q.head++
		if live(l) {
			q.compact(nil)
			return l
		}
	}
	q.q, q.head = q.q[:0], 0
	return nil
}

// compact drops the consumed head and, with live set, every dead entry.
func (q *leaseQueue) compact(live func(*lease) bool) {
	if live == nil {
		if q.head > 1024 && q.head > len(q.q)/2 {
			q.q, q.head = append(q.q[:0], q.q[q.head:]...), 0
		}
		return
	}
	out := q.q[:0]
	for _, l := range q.q[q.head:] {
		if live(l) {
			out = append(out, l)
		}
	}
	clear(q.q[len(out):])
	q.q, q.head = out, 0
}

// liveState reports whether l is still the pool's lease of its address,
// in state st.
func (p *Pool) liveState(l *lease, st leaseState) bool { return p.byIP[l.ip] == l && l.state == st }

// takeReadyLocked returns the oldest ready address still fresh, dropping
// stale ones (they go back to plain free addresses).
func (p *Pool) takeReadyLocked(now time.Time) netip.Addr {
	l := p.readyQ.pop(func(l *lease) bool {
		if !p.liveState(l, ready) {
			return false
		}
		if !now.Before(l.expiry) {
			delete(p.byIP, l.ip)
			p.frees++
			return false
		}
		if p.shared != nil && p.shared.Taken(l.ip, "", now) {
			delete(p.byIP, l.ip) // another server's client has it now
			return false
		}
		return true
	})
	if l == nil {
		return netip.Addr{}
	}
	return l.ip
}

// oldestOfferLocked returns the oldest offer still held, so that a pool
// full of offers (a DISCOVER flood from clients that never REQUEST) gives
// its address to the next client instead of refusing it until the offers
// lapse. Bindings are never reclaimed.
func (p *Pool) oldestOfferLocked(now time.Time) *lease {
	return p.offerQ.pop(func(l *lease) bool { return p.liveState(l, offered) && now.Before(l.expiry) })
}

// compactLocked keeps the queues proportional to the pool's records.
func (p *Pool) compactLocked() {
	limit := 2*len(p.byIP) + 1024
	if p.offerQ.len() > limit {
		p.offerQ.compact(func(l *lease) bool { return p.liveState(l, offered) })
	}
	if p.readyQ.len() > limit {
		p.readyQ.compact(func(l *lease) bool { return p.liveState(l, ready) })
	}
}

// readyQueued is the length of the ready queue, dead entries included: a
// cheap upper bound of the ready addresses.
func (p *Pool) readyQueued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readyQ.len()
}

// AheadCounts returns how many addresses are ready and being probed.
func (p *Pool) AheadCounts() (readyN, probingN int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.readyQ.q[p.readyQ.head:] {
		if p.liveState(l, ready) {
			readyN++
		}
	}
	now := p.cfg.Now()
	for ip, l := range p.probingSet {
		if !p.liveState(l, probing) || !now.Before(l.expiry) {
			delete(p.probingSet, ip)
		}
	}
	return readyN, len(p.probingSet)
}

// ProbeCandidates marks addresses to probe ahead of demand and returns
// them: ready ones older than fresh/2 (oldest first), then up to n that
// nobody held (next fit from the pool's cursor, looking at no more than
// 4n+256 addresses). Each is held in state probing until hold passes or
// Probed reports it.
func (p *Pool) ProbeCandidates(n int, fresh, hold time.Duration) []netip.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	var out []netip.Addr
	mark := func(ip netip.Addr) {
		if old := p.byIP[ip]; old != nil && p.byKey[old.Key] == old {
			delete(p.byKey, old.Key) // a lapsed offer: its client holds nothing now
		}
		l := &lease{ip: ip, state: probing, expiry: now.Add(hold)}
		p.byIP[ip] = l
		p.probingSet[ip] = l
		out = append(out, ip)
	}
	for p.readyQ.len() > 0 {
		l := p.readyQ.q[p.readyQ.head]
		if p.liveState(l, ready) && now.Before(l.expiry.Add(-fresh/2)) {
			break
		}
		p.readyQ.pop(func(*lease) bool { return true })
		if p.liveState(l, ready) {
			mark(l.ip)
		}
	}
	for i := 0; n > 0 && i < min(4*n+256, p.size); i++ {
		ip := p.addrAt(p.cursor)
		p.cursor = (p.cursor + 1) % p.size
		if l := p.byIP[ip]; (l == nil || l.state == offered || l.state == quarantined) && p.freeLocked(ip, "", now) {
			mark(ip)
			n--
		}
	}
	return out
}

// Probed records the answer of a probe ahead of demand: a free address
// becomes ready for fresh; one in use is quarantined for DeclineHold.
// Nothing happens when the address moved on meanwhile.
func (p *Pool) Probed(ip netip.Addr, inUse bool, fresh time.Duration) error {
	p.mu.Lock()
	l := p.byIP[ip]
	delete(p.probingSet, ip)
	if l == nil || l.state != probing {
		p.mu.Unlock()
		return nil
	}
	if !inUse {
		l.state, l.expiry = ready, p.cfg.Now().Add(fresh)
		p.readyQ.push(l)
		p.frees++
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return p.Decline("", ip)
}

// aheadTarget is how many ready addresses a pool keeps.
func (h *Handler) aheadTarget(sn *subnet) int {
	return max(min(h.aheadSize, sn.pool.Size()/4), 1)
}

// ProbeAhead keeps every pool's ready set full until ctx ends; Maintain
// runs it when conflict detection is on.
func (h *Handler) ProbeAhead(ctx context.Context) {
	t := time.NewTicker(probeAheadTick)
	defer t.Stop()
	for {
		for _, sn := range h.subnets {
			h.refill(sn)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.aheadKick:
		}
	}
}

// refill starts the probes that bring sn's ready set to its target and
// refresh its stale entries. Each probe runs in its own goroutine; at most
// target+stale run at once, since a candidate stays in state probing
// until its probe ends.
func (h *Handler) refill(sn *subnet) {
	readyN, probingN := sn.pool.AheadCounts()
	want := h.aheadTarget(sn) - readyN - probingN
	ips := sn.pool.ProbeCandidates(want, h.aheadFresh, h.probeTO+time.Second)
	relayed := !sn.cfg.Prefix.Contains(h.srv.Addr)
	for _, ip := range ips {
		go func() {
			inUse := h.prober.InUse(ip, relayed, h.probeTO)
			h.Metrics.ProbedAhead.Add(1)
			if inUse {
				h.Metrics.Conflicts.Add(1)
				h.log.WithFields(logrus.Fields{"ip": ip, "cidr": sn.cfg.Prefix}).Warn("dhcp: address answered a probe ahead of demand, quarantined")
			}
			if err := sn.pool.Probed(ip, inUse, h.aheadFresh); err != nil {
				h.log.WithError(err).Error("dhcp: quarantining a conflicting address")
			}
		}()
	}
}

// kickAhead asks the loop to top the sets up now, when an OFFER took a
// ready address and sn's set is down to half its target (the ticker tops
// it up otherwise, so that a burst does not run the loop per OFFER); it
// never blocks.
func (h *Handler) kickAhead(sn *subnet) {
	if sn.pool.readyQueued() >= h.aheadTarget(sn)/2 {
		return
	}
	select {
	case h.aheadKick <- struct{}{}:
	default:
	}
}
