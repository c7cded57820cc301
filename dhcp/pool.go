package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Errors returned by a Pool.
var (
	ErrPoolExhausted = errors.New("no free address in the pool")
	ErrNotAvailable  = errors.New("address not available to this client")
)

// lease is one address held by one client.
type lease struct {
	mac    string
	ip     netip.Addr
	expiry time.Time
	bound  bool // ACKed, not just offered
}

// Pool hands out the addresses of one range of one subnet and remembers who
// holds which (RFC 2131 section 4.3.1). It is safe for concurrent use. The
// leases live in memory only; a restart forgets them.
type Pool struct {
	mu        sync.Mutex
	start     netip.Addr
	end       netip.Addr
	reserved  map[netip.Addr]bool // fixed addresses, the server's own
	byMAC     map[string]*lease
	byIP      map[netip.Addr]*lease
	offerHold time.Duration
	now       func() time.Time
}

// NewPool returns a pool for the addresses start..end, never handing out
// the reserved ones. now is the clock; an offer holds its address for
// offerHold.
func NewPool(start, end netip.Addr, reserved []netip.Addr, offerHold time.Duration, now func() time.Time) *Pool {
	p := &Pool{
		start: start, end: end,
		reserved:  make(map[netip.Addr]bool, len(reserved)),
		byMAC:     map[string]*lease{},
		byIP:      map[netip.Addr]*lease{},
		offerHold: offerHold, now: now,
	}
	for _, a := range reserved {
		p.reserved[a] = true
	}
	return p
}

// Offer picks an address for mac and holds it briefly: the client's current
// lease, else the address it asked for when free, else the lowest free one.
func (p *Pool) Offer(mac net.HardwareAddr, requested netip.Addr) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	key := mac.String()
	if l := p.byMAC[key]; l != nil && (l.bound || now.Before(l.expiry)) {
		if !l.bound {
			l.expiry = now.Add(p.offerHold)
		}
		return l.ip, nil
	}
	ip := requested
	if !p.freeLocked(ip, key, now) {
		var err error
		if ip, err = p.lowestFreeLocked(key, now); err != nil {
			return netip.Addr{}, err
		}
	}
	p.holdLocked(key, ip, now.Add(p.offerHold), false)
	return ip, nil
}

// Bind commits ip to mac for leaseTime (a REQUEST being ACKed). It fails
// with ErrNotAvailable when the address is outside the range, reserved, or
// held by another client.
func (p *Pool) Bind(mac net.HardwareAddr, ip netip.Addr, leaseTime time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	key := mac.String()
	if !p.freeLocked(ip, key, now) {
		return fmt.Errorf("%s for %s: %w", ip, key, ErrNotAvailable)
	}
	p.holdLocked(key, ip, now.Add(leaseTime), true)
	return nil
}

// Release gives back the address mac holds, if it is ip (RFC 2131 section
// 4.4.6).
func (p *Pool) Release(mac net.HardwareAddr, ip netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.byMAC[mac.String()]; l != nil && l.ip == ip {
		p.dropLocked(l)
	}
}

// Contains reports whether ip is in the pool's range.
func (p *Pool) Contains(ip netip.Addr) bool {
	return ip.IsValid() && p.start.Compare(ip) <= 0 && ip.Compare(p.end) <= 0
}

// freeLocked reports whether ip may go to the client key.
func (p *Pool) freeLocked(ip netip.Addr, key string, now time.Time) bool {
	if !p.Contains(ip) || p.reserved[ip] {
		return false
	}
	l := p.byIP[ip]
	return l == nil || l.mac == key || !now.Before(l.expiry)
}

// lowestFreeLocked scans the range for a free address.
func (p *Pool) lowestFreeLocked(key string, now time.Time) (netip.Addr, error) {
	for ip := p.start; ip.IsValid() && ip.Compare(p.end) <= 0; ip = ip.Next() {
		if p.freeLocked(ip, key, now) {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%s-%s: %w", p.start, p.end, ErrPoolExhausted)
}

// holdLocked records that key holds ip until expiry, dropping whatever
// either held before.
func (p *Pool) holdLocked(key string, ip netip.Addr, expiry time.Time, bound bool) {
	if old := p.byMAC[key]; old != nil {
		p.dropLocked(old)
	}
	if old := p.byIP[ip]; old != nil {
		p.dropLocked(old)
	}
	l := &lease{mac: key, ip: ip, expiry: expiry, bound: bound}
	p.byMAC[key] = l
	p.byIP[ip] = l
}

func (p *Pool) dropLocked(l *lease) {
	delete(p.byMAC, l.mac)
	delete(p.byIP, l.ip)
}
