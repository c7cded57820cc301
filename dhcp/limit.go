package dhcp

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/rackboot/rackboot/dhcpwire"
)

// rateLimiter caps new leases per second per relay (giaddr) or for the
// attached segment: a token bucket each, holding one second's worth.
type rateLimiter struct {
	rate    float64
	now     func() time.Time
	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newRateLimiter returns a limiter of perSecond new leases per source; nil
// (no limit) when perSecond is 0.
func newRateLimiter(perSecond int, now func() time.Time) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{rate: float64(perSecond), now: now, buckets: map[netip.Addr]*bucket{}}
}

// allow takes a token from the bucket of giaddr (the zero address stands
// for the attached segment).
func (l *rateLimiter) allow(giaddr net.IP) bool {
	if l == nil {
		return true
	}
	key, _ := dhcpwire.AddrOf(giaddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.rate, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.rate, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
