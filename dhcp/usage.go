package dhcp

import "net/netip"

// Usage is how much of one subnet's pool is taken, for the dashboard and
// the lease gauges.
type Usage struct {
	CIDR netip.Prefix `json:"cidr"`
	// Size is the pool's addresses (fixed ones, the server's and the
	// router's excluded).
	Size int `json:"size"`
	// InUse are bound and unexpired; Offered held for an OFFER;
	// Quarantined declined or found in use; Free the rest.
	InUse       int `json:"in_use"`
	Offered     int `json:"offered"`
	Quarantined int `json:"quarantined"`
	Free        int `json:"free"`
}

// Usage counts the pool's addresses by state, as of its clock.
func (p *Pool) Usage() (inUse, held, quarantine int) {
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.byIP {
		if !now.Before(l.expiry) {
			continue
		}
		switch l.state {
		case bound:
			inUse++
		case offered:
			held++
		case quarantined:
			quarantine++
		}
	}
	return inUse, held, quarantine
}

// Usage returns each subnet's pool usage, in configuration order.
func (h *Handler) Usage() []Usage {
	out := make([]Usage, 0, len(h.subnets))
	for _, sn := range h.subnets {
		u := Usage{CIDR: sn.cfg.Prefix, Size: sn.pool.Size()}
		u.InUse, u.Offered, u.Quarantined = sn.pool.Usage()
		u.Free = max(0, u.Size-u.InUse-u.Offered-u.Quarantined)
		out = append(out, u)
	}
	return out
}
