package dhcp6

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/leases"
)

// ErrNoAddrs is a pool with no free address for the client (status
// NoAddrsAvail, RFC 8415 section 21.13).
var ErrNoAddrs = errors.New("no free address in the subnet's ranges")

// maxProbe bounds the addresses one allocation looks at, so a huge IPv6
// range costs no more than a small one.
const maxProbe = 4096

// binding is one address held by one client.
type binding struct {
	key    string
	ip     netip.Addr
	until  time.Time
	bound  bool // committed to the store (else only offered)
	hold   bool // declined: nobody's until `until`
	duid   []byte
	mac    net.HardwareAddr
	hostnm string
}

// pool hands out the IPv6 addresses of the configured subnets, one per
// client: a client is its MAC when known, else its DUID, so the two DHCPv6
// clients of one OVMF boot (the PXE driver and the IPv6 stack, two IAs)
// and iPXE after them share one address instead of draining a small pool.
type pool struct {
	mu    sync.Mutex
	byKey map[string]*binding
	byIP  map[netip.Addr]*binding
	now   func() time.Time
}

func newPool(now func() time.Time) *pool {
	return &pool{byKey: map[string]*binding{}, byIP: map[netip.Addr]*binding{}, now: now}
}

// clientKey identifies a client in the pool.
func clientKey(c Client) string {
	if c.Facts.MAC != nil {
		return "hw:" + c.Facts.MAC.String()
	}
	return "duid:" + string(c.DUID)
}

// load takes the store's leases: bound ones until they expire, declined
// ones as held.
func (p *pool) load(ls []leases.Lease) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, l := range ls {
		if !l.IP.Is6() || !l.Expiry.After(now) || (l.State != leases.Bound && l.State != leases.Declined) {
			continue
		}
		b := &binding{ip: l.IP, until: l.Expiry, bound: true, hold: l.State == leases.Declined, duid: l.ClientID, mac: l.MAC, hostnm: l.Hostname}
		if !b.hold {
			b.key = "duid:" + string(l.ClientID)
			if l.MAC != nil {
				b.key = "hw:" + l.MAC.String()
			}
			p.byKey[b.key] = b
		}
		p.byIP[l.IP] = b
	}
}

// reserve picks the address for key in sn and holds it for key until
// `until` as an offer, in one step, so that two clients asking at once
// never get the same address. A client's bound lease that lasts longer is
// left as it is. A fixed address that another client holds, or that was
// declined, is refused.
func (p *pool) reserve(key string, sn *config.Subnet, fixed netip.Addr, until time.Time, c Client) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ip, err := p.pickLocked(key, sn, fixed)
	if err != nil {
		return ip, err
	}
	if b := p.byIP[ip]; b != nil && b.until.After(p.now()) {
		switch {
		case b.hold:
			return netip.Addr{}, fmt.Errorf("%s was declined; it is out of use until %s", ip, b.until.Format(time.RFC3339))
		case b.key != key && ip == fixed:
			return netip.Addr{}, fmt.Errorf("the fixed address %s is held by another client (%s)", ip, b.key)
		}
	}
	if cur := p.byKey[key]; cur != nil && cur.ip == ip && cur.bound && cur.until.After(until) {
		return ip, nil
	}
	p.holdLocked(key, ip, until, false, c)
	return ip, nil
}

// pickLocked returns the address for key in sn: fixed (a machine's ipv6)
// when valid, else the client's current one, else a free one.
func (p *pool) pickLocked(key string, sn *config.Subnet, fixed netip.Addr) (netip.Addr, error) {
	now := p.now()
	if fixed.IsValid() {
		return fixed, nil
	}
	if b := p.byKey[key]; b != nil && b.until.After(now) && sn.Prefix.Contains(b.ip) && inPools(sn.Pools, b.ip) {
		return b.ip, nil
	}
	for _, r := range sn.Pools {
		if ip, ok := p.freeIn(r, key, now); ok {
			return ip, nil
		}
	}
	return netip.Addr{}, ErrNoAddrs
}

// freeIn looks for a free address of r from a start point that depends on
// key, so clients spread over a large range and one client tends to get
// the same address again. With none free it takes the oldest offer that
// no client has requested yet: a flood of Solicits from clients that never
// send a Request cannot lock the others out.
func (p *pool) freeIn(r config.AddrRange, key string, now time.Time) (netip.Addr, bool) {
	size := rangeSize(r)
	h := fnv.New64a()
	h.Write([]byte(key))
	start := h.Sum64() % size
	var oldest *binding
	for i := uint64(0); i < min(size, maxProbe); i++ {
		ip := addrAdd(r.First, (start+i)%size)
		b := p.byIP[ip]
		if b == nil || !b.until.After(now) {
			return ip, true
		}
		if !b.bound && !b.hold && (oldest == nil || b.until.Before(oldest.until)) {
			oldest = b
		}
	}
	if oldest != nil {
		return oldest.ip, true
	}
	return netip.Addr{}, false
}

// hold records that key holds ip until t; bound marks a committed lease.
func (p *pool) hold(key string, ip netip.Addr, t time.Time, bound bool, c Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdLocked(key, ip, t, bound, c)
}

func (p *pool) holdLocked(key string, ip netip.Addr, t time.Time, bound bool, c Client) {
	if old := p.byKey[key]; old != nil && old.ip != ip && p.byIP[old.ip] == old {
		delete(p.byIP, old.ip)
	}
	if other := p.byIP[ip]; other != nil && other.key != key && p.byKey[other.key] == other {
		delete(p.byKey, other.key)
	}
	b := &binding{key: key, ip: ip, until: t, bound: bound, duid: c.DUID, mac: c.Facts.MAC, hostnm: c.Facts.Hostname}
	p.byKey[key], p.byIP[ip] = b, b
}

// release drops key's binding of ip.
func (p *pool) release(key string, ip netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.byIP[ip]
	if b == nil || b.key != key {
		return false
	}
	delete(p.byIP, ip)
	delete(p.byKey, key)
	return true
}

// quarantine keeps ip from everyone until t.
func (p *pool) quarantine(key string, ip netip.Addr, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.byKey[key]; b != nil && b.ip == ip {
		delete(p.byKey, key)
	}
	p.byIP[ip] = &binding{key: "declined", ip: ip, until: t, hold: true}
}

func inPools(rs []config.AddrRange, ip netip.Addr) bool {
	for _, r := range rs {
		if !ip.Less(r.First) && !r.Last.Less(ip) {
			return true
		}
	}
	return false
}

// rangeSize is the number of addresses of r, capped at 2^64-1 (the low 64
// bits of a range within one /64 and more).
func rangeSize(r config.AddrRange) uint64 {
	a, b := r.First.As16(), r.Last.As16()
	if binary.BigEndian.Uint64(a[:8]) != binary.BigEndian.Uint64(b[:8]) {
		return ^uint64(0)
	}
	n := binary.BigEndian.Uint64(b[8:]) - binary.BigEndian.Uint64(a[8:])
	if n == ^uint64(0) {
		return n
	}
	return n + 1
}

// addrAdd is a+n in 128-bit arithmetic.
func addrAdd(a netip.Addr, n uint64) netip.Addr {
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	sum := lo + n
	if sum < lo {
		hi++
	}
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], sum)
	return netip.AddrFrom16(b)
}
