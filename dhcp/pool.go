package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/leases"
)

// Errors returned by a Pool.
var (
	ErrPoolExhausted = errors.New("no free address in the pool")
	ErrNotAvailable  = errors.New("address not available to this client")
	ErrNoLease       = errors.New("no lease for this client")
)

// leaseState is where an address is, in memory.
type leaseState uint8

const (
	// offered: held for the client until expiry; never written to disk.
	offered leaseState = iota
	// bound: ACKed, on disk, the client's until expiry.
	bound
	// free: released or expired; the record is kept so the client gets
	// the same address back while nobody else took it.
	free
	// quarantined: declined or answered a probe; nobody's until expiry.
	quarantined
	// probing: being probed ahead of demand (ahead.go); nobody's until
	// the probe ends or expiry.
	probing
	// ready: probed ahead of demand and found free; offered to the next
	// new client without a probe until expiry, when it is stale.
	ready
)

// lease is one address and who holds it.
type lease struct {
	Holder
	ip     netip.Addr
	state  leaseState
	expiry time.Time
}

// Holder says who asks for or holds an address.
type Holder struct {
	// Key is leases.ClientKey of the client (option 61, else MAC).
	Key      string
	MAC      net.HardwareAddr
	ClientID []byte
	Hostname string
}

// PoolConfig is what a Pool is built from.
type PoolConfig struct {
	Ranges []config.AddrRange
	// Reserved addresses are never handed out (fixed addresses, the
	// server's own, the router).
	Reserved    []netip.Addr
	OfferHold   time.Duration
	DeclineHold time.Duration
	Now         func() time.Time
	// Store makes bindings durable; Bind returns after it did. When it is
	// a leases.Shared (etcd), addresses that another server's client holds
	// are not free here either.
	Store leases.Store
	// Prefer, when set, says which addresses to hand out first: a cluster
	// member prefers the addresses whose hash bucket it owns, so that two
	// members rarely offer one address (docs/cluster.md). The others are
	// taken when the preferred ones run out.
	Prefer func(netip.Addr) bool
}

// Pool hands out the addresses of one subnet's ranges and remembers who
// holds which (RFC 2131 section 4.3.1). Offers live in memory only;
// bindings, releases, expiries and declines go to the Store, without the
// pool's lock held, so concurrent bindings share a disk sync. Safe for
// concurrent use.
type Pool struct {
	mu       sync.Mutex
	cfg      PoolConfig
	reserved map[netip.Addr]bool
	byKey    map[string]*lease
	byIP     map[netip.Addr]*lease
	cursor   int // next-fit position, an index into the ranges
	size     int
	shared   leases.Shared // nil: only this server writes the store
	// readyQ holds the ready addresses, oldest probe first; offerQ the
	// offers, oldest first, so that an exhausted pool reclaims the
	// oldest. Entries whose lease moved on are skipped (ahead.go).
	readyQ     leaseQueue
	offerQ     leaseQueue
	probingSet map[netip.Addr]*lease
	// frees counts the events that may free an address; full remembers
	// the last scan that found none (nextFreeLocked).
	frees uint64
	full  struct {
		frees uint64
		until time.Time
	}
}

func sharedOf(s leases.Store) leases.Shared {
	sh, _ := s.(leases.Shared)
	return sh
}

// NewPool returns an empty pool.
func NewPool(c PoolConfig) *Pool {
	p := &Pool{
		cfg:      c,
		shared:   sharedOf(c.Store),
		reserved: make(map[netip.Addr]bool, len(c.Reserved)),
		byKey:    map[string]*lease{},
		byIP:     map[netip.Addr]*lease{},

		probingSet: map[netip.Addr]*lease{},
	}
	for _, a := range c.Reserved {
		p.reserved[a] = true
	}
	for _, r := range c.Ranges {
		p.size += int(u32(r.Last)-u32(r.First)) + 1
	}
	return p
}

// Load restores the leases of this pool's ranges from the store's records,
// so that after a restart every client keeps its address.
func (p *Pool) Load(recs []leases.Lease) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	p.frees++
	n := 0
	for _, r := range recs {
		if !p.Contains(r.IP) || p.reserved[r.IP] {
			continue
		}
		l := &lease{ip: r.IP, expiry: r.Expiry, Holder: Holder{
			Key: r.Key(), MAC: r.MAC, ClientID: r.ClientID, Hostname: r.Hostname}}
		switch {
		case r.State == leases.Bound && now.Before(r.Expiry):
			l.state = bound
		case r.State == leases.Declined && now.Before(r.Expiry):
			l.state = quarantined
			p.byIP[l.ip] = l
			continue
		case r.State == leases.Declined:
			continue
		default:
			l.state = free
		}
		if old := p.byKey[l.Key]; old != nil && old.state == bound && l.state != bound {
			continue // keep the client's live lease over an old record
		}
		p.setLocked(l)
		n++
	}
	return n
}

// Offer picks an address for c and holds it for OfferHold (RFC 2131
// section 4.3.1): the client's current or last address when it is still
// free, else the address it asked for when free, else the next free one.
// known is false when the address was nobody's before, so that it should
// be probed for conflicts before it is offered.
func (p *Pool) Offer(c Holder, requested netip.Addr) (ip netip.Addr, known bool, err error) {
	ip, kind, err := p.offer(c, requested)
	return ip, kind != offerNew, err
}

// offerKind says where an offered address came from.
type offerKind uint8

const (
	// offerKnown: the client's own or last address, or one whose last
	// client released it: no probe.
	offerKnown offerKind = iota
	// offerReady: from the addresses probed ahead of demand: no probe.
	offerReady
	// offerNew: nobody's before and not probed: probe it first.
	offerNew
)

// offer is Offer saying where the address came from: the client's own,
// else the requested one when free, else one probed ahead of demand, else
// the next free one, else (the pool being full of offers and bindings)
// the oldest offer to another client, which lapses for it.
func (p *Pool) offer(c Holder, requested netip.Addr) (netip.Addr, offerKind, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	if l := p.byKey[c.Key]; l != nil && p.byIP[l.ip] == l {
		if l.state != bound || !now.Before(l.expiry) {
			l.state, l.expiry = offered, now.Add(p.cfg.OfferHold)
			p.offerQ.push(l)
		}
		return l.ip, offerKnown, nil
	}
	if ip, ok := p.sharedLocked(c.Key, now); ok {
		l := &lease{Holder: c, ip: ip, state: offered, expiry: now.Add(p.cfg.OfferHold)}
		p.setLocked(l)
		p.offerQ.push(l)
		return ip, offerKnown, nil
	}
	var ip netip.Addr
	var err error
	if requested.IsValid() && p.freeLocked(requested, c.Key, now) {
		ip = requested
	} else if r := p.takeReadyLocked(now); r.IsValid() {
		ip = r
	} else if ip, err = p.nextFreeLocked(c.Key, now); err != nil {
		return netip.Addr{}, offerNew, err
	}
	kind := offerNew
	switch prev := p.byIP[ip]; {
	case prev != nil && (prev.state == free || prev.state == offered):
		// Released by its last client, or reclaimed from an offer that
		// was probed (or known) when it was made, within OfferHold.
		kind = offerKnown
	case prev != nil && prev.state == ready && now.Before(prev.expiry):
		kind = offerReady
	}
	l := &lease{Holder: c, ip: ip, state: offered, expiry: now.Add(p.cfg.OfferHold)}
	p.setLocked(l)
	p.offerQ.push(l)
	p.compactLocked()
	return ip, kind, nil
}

// Has reports whether c holds an address (bound or offered) in this pool.
func (p *Pool) Has(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byKey[key]
	return l != nil && p.byIP[l.ip] == l && l.state != free && p.cfg.Now().Before(l.expiry)
}

// Current returns the address c holds (bound, not expired), if any.
func (p *Pool) Current(key string) (netip.Addr, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byKey[key]
	if l == nil || p.byIP[l.ip] != l || l.state != bound || !p.cfg.Now().Before(l.expiry) {
		return p.sharedLocked(key, p.cfg.Now())
	}
	return l.ip, true
}

// sharedLocked is the address of this pool that the shared store shows
// bound to key by another server (a client this server takes over).
func (p *Pool) sharedLocked(key string, now time.Time) (netip.Addr, bool) {
	if p.shared == nil {
		return netip.Addr{}, false
	}
	ip, ok := p.shared.Holding(key, now)
	if !ok || !p.Contains(ip) || p.reserved[ip] {
		return netip.Addr{}, false
	}
	return ip, true
}

// Bind commits ip to c for leaseTime (a REQUEST being ACKed) and returns
// once the store has it on disk. It fails with ErrNotAvailable when the
// address is outside the ranges, reserved, quarantined or another
// client's.
func (p *Pool) Bind(c Holder, ip netip.Addr, leaseTime time.Duration) error {
	ch := make(chan error, 1)
	p.BindAsync(c, ip, leaseTime, func(err error) { ch <- err })
	return <-ch
}

// BindAsync is Bind that calls done instead of returning: at once when the
// address is not available, else once the store has the binding on disk
// (from another goroutine when the store is a leases.Committer), so the
// caller never waits for the disk. The binding holds in memory meanwhile.
func (p *Pool) BindAsync(c Holder, ip netip.Addr, leaseTime time.Duration, done func(error)) {
	p.mu.Lock()
	now := p.cfg.Now()
	if !p.freeLocked(ip, c.Key, now) {
		p.mu.Unlock()
		done(fmt.Errorf("%s for %s: %w", ip, c.describe(), ErrNotAvailable))
		return
	}
	var dropped *lease
	if old := p.byKey[c.Key]; old != nil && old.ip != ip && old.state == bound && p.byIP[old.ip] == old {
		dropped = old
	}
	prev := p.byIP[ip]
	renew := prev != nil && prev.Key == c.Key && prev.state == bound
	l := &lease{Holder: c, ip: ip, state: bound, expiry: now.Add(leaseTime).Truncate(time.Second)}
	p.setLocked(l)
	p.mu.Unlock()
	if dropped != nil {
		if err := p.cfg.Store.Release(dropped.record()); err != nil {
			done(err)
			return
		}
	}
	finish := func(err error) {
		if errors.Is(err, leases.ErrTaken) {
			p.dropLost(l)
			err = fmt.Errorf("%s for %s: %w: %w", ip, c.describe(), ErrNotAvailable, err)
		} else if err != nil {
			p.mu.Lock()
			if p.byIP[ip] == l {
				l.state, l.expiry = offered, now.Add(p.cfg.OfferHold)
			}
			p.mu.Unlock()
			err = fmt.Errorf("recording lease of %s for %s: %w", ip, c.describe(), err)
		}
		done(err)
	}
	rec := l.record()
	switch st := p.cfg.Store.(type) {
	case leases.Committer:
		st.Commit(rec, finish)
	default:
		if renew {
			finish(p.cfg.Store.Renew(rec))
		} else {
			finish(p.cfg.Store.Allocate(rec))
		}
	}
}

// dropLost forgets a binding that another server won in the shared store.
func (p *Pool) dropLost(l *lease) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byIP[l.ip] == l {
		delete(p.byIP, l.ip)
	}
	if p.byKey[l.Key] == l {
		delete(p.byKey, l.Key)
	}
}

// Release gives back the address key holds, if it is ip (RFC 2131 section
// 4.4.6). The record stays so the client gets it back if nobody took it.
func (p *Pool) Release(key string, ip netip.Addr) error {
	p.mu.Lock()
	l := p.byKey[key]
	if l == nil || l.ip != ip || p.byIP[ip] != l || l.state == free {
		p.mu.Unlock()
		return fmt.Errorf("%s: %w", ip, ErrNoLease)
	}
	wasBound := l.state == bound
	l.state, l.expiry = free, p.cfg.Now().Truncate(time.Second)
	p.frees++
	rec := l.record()
	p.mu.Unlock()
	if !wasBound {
		return nil
	}
	return p.cfg.Store.Release(rec)
}

// Decline quarantines ip for DeclineHold: the client key found it in use
// (RFC 2131 section 4.3.3), or key is empty and a probe got an answer.
func (p *Pool) Decline(key string, ip netip.Addr) error {
	p.mu.Lock()
	l := p.byIP[ip]
	if key != "" && (l == nil || l.Key != key) {
		p.mu.Unlock()
		return fmt.Errorf("%s: %w", ip, ErrNoLease)
	}
	if !p.Contains(ip) {
		p.mu.Unlock()
		return fmt.Errorf("%s is outside the pool: %w", ip, ErrNotAvailable)
	}
	q := &lease{ip: ip, state: quarantined, expiry: p.cfg.Now().Add(p.cfg.DeclineHold).Truncate(time.Second)}
	if l != nil {
		q.Holder = l.Holder
		if p.byKey[l.Key] == l {
			delete(p.byKey, l.Key)
		}
	}
	p.byIP[ip] = q
	rec := q.record()
	p.mu.Unlock()
	return p.cfg.Store.Decline(rec)
}

// Forget drops an offer that the client turned down by choosing another
// server (RFC 2131 section 4.3.2, SELECTING with another server id).
func (p *Pool) Forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.byKey[key]; l != nil && l.state == offered && p.byIP[l.ip] == l {
		delete(p.byIP, l.ip)
		delete(p.byKey, key)
		p.frees++
	}
}

// Sweep returns expired bindings to the pool, recording each as expired,
// and drops lapsed offers and quarantines. It returns how many bindings
// expired.
func (p *Pool) Sweep() (int, error) {
	p.mu.Lock()
	now := p.cfg.Now()
	p.frees++
	var expired []leases.Lease
	for ip, l := range p.byIP {
		if now.Before(l.expiry) {
			continue
		}
		switch l.state {
		case bound:
			l.state = free
			expired = append(expired, l.record())
		case offered, quarantined, probing, ready:
			delete(p.byIP, ip)
			if p.byKey[l.Key] == l {
				delete(p.byKey, l.Key)
			}
		}
	}
	p.mu.Unlock()
	var errs []error
	for _, r := range expired {
		errs = append(errs, p.cfg.Store.Expire(r))
	}
	return len(expired), errors.Join(errs...)
}

// Contains reports whether ip is in one of the pool's ranges.
func (p *Pool) Contains(ip netip.Addr) bool {
	if !ip.Is4() {
		return false
	}
	for _, r := range p.cfg.Ranges {
		if r.First.Compare(ip) <= 0 && ip.Compare(r.Last) <= 0 {
			return true
		}
	}
	return false
}

// Size is the number of addresses in the ranges.
func (p *Pool) Size() int { return p.size }

// freeLocked reports whether ip may go to the client key.
func (p *Pool) freeLocked(ip netip.Addr, key string, now time.Time) bool {
	if !p.Contains(ip) || p.reserved[ip] {
		return false
	}
	if p.shared != nil && p.shared.Taken(ip, key, now) {
		return false
	}
	l := p.byIP[ip]
	switch {
	case l == nil || l.state == free || l.state == ready:
		return true
	case l.state == quarantined || l.state == probing:
		return !now.Before(l.expiry)
	}
	return l.Key == key || !now.Before(l.expiry)
}

// nextFreeLocked scans the ranges from where the last scan stopped: first
// for a preferred address nobody had, then (with a Prefer) for any address
// nobody had, then for any free one; else it reclaims the oldest offer.
// A scan that found nothing is not repeated until an address may have
// come free (p.frees moved, or the earliest expiry it saw passed), so
// that a pool full of offers costs a flood of DISCOVERs no full scans;
// with a shared store, where other servers free addresses, it always is.
func (p *Pool) nextFreeLocked(key string, now time.Time) (netip.Addr, error) {
	if p.shared != nil || p.full.frees != p.frees || !now.Before(p.full.until) {
		if ip, ok := p.scanLocked(key, now); ok {
			return ip, nil
		}
	}
	if l := p.oldestOfferLocked(now); l != nil {
		return l.ip, nil
	}
	return netip.Addr{}, ErrPoolExhausted
}

// scanLocked is nextFreeLocked's search.
func (p *Pool) scanLocked(key string, now time.Time) (netip.Addr, bool) {
	until := now.Add(time.Hour)
	passes := []func(netip.Addr) bool{nil}
	if p.cfg.Prefer != nil {
		passes = []func(netip.Addr) bool{p.cfg.Prefer, nil}
	}
	for _, prefer := range passes {
		for range p.size {
			ip := p.addrAt(p.cursor)
			p.cursor = (p.cursor + 1) % p.size
			if prefer != nil && !prefer(ip) {
				continue
			}
			l := p.byIP[ip]
			if (l == nil || l.state != free) && p.freeLocked(ip, key, now) {
				return ip, true
			}
			if l != nil && l.expiry.Before(until) {
				until = l.expiry
			}
		}
	}
	// Last resort: an address whose previous client may come back for it.
	for range p.size {
		ip := p.addrAt(p.cursor)
		p.cursor = (p.cursor + 1) % p.size
		if p.freeLocked(ip, key, now) {
			return ip, true
		}
	}
	p.full.frees, p.full.until = p.frees, until
	return netip.Addr{}, false
}

// addrAt is the i-th address of the ranges.
func (p *Pool) addrAt(i int) netip.Addr {
	for _, r := range p.cfg.Ranges {
		n := int(u32(r.Last)-u32(r.First)) + 1
		if i < n {
			return u32Addr(u32(r.First) + uint32(i))
		}
		i -= n
	}
	return netip.Addr{}
}

// setLocked records l, dropping what its client or address held before.
func (p *Pool) setLocked(l *lease) {
	if old := p.byKey[l.Key]; old != nil && p.byIP[old.ip] == old {
		delete(p.byIP, old.ip)
		p.frees++
	}
	if old := p.byIP[l.ip]; old != nil && p.byKey[old.Key] == old {
		delete(p.byKey, old.Key)
	}
	p.byKey[l.Key] = l
	p.byIP[l.ip] = l
}

// Leases returns the pool's bound leases, for tests and listings.
func (p *Pool) Leases() []leases.Lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []leases.Lease
	for _, l := range p.byIP {
		if l.state == bound {
			out = append(out, l.record())
		}
	}
	slices.SortFunc(out, func(a, b leases.Lease) int { return a.IP.Compare(b.IP) })
	return out
}

func (l *lease) record() leases.Lease {
	r := leases.Lease{IP: l.ip, ClientID: l.ClientID, MAC: l.MAC, Expiry: l.expiry, Hostname: l.Hostname}
	switch l.state {
	case bound:
		r.State = leases.Bound
	case quarantined:
		r.State = leases.Declined
	default:
		r.State = leases.Released
	}
	return r
}

func (c Holder) describe() string {
	if len(c.ClientID) > 0 {
		return fmt.Sprintf("client-id %x", c.ClientID)
	}
	return c.MAC.String()
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
