package config

import (
	"net/netip"
	"strings"
	"time"
)

// Defaults of the full DHCP server's settings (docs/dhcp.md), filled in
// when the key is absent or zero.
const (
	DefaultProbeTimeout = Duration(300 * time.Millisecond)
	DefaultDeclineHold  = Duration(10 * time.Minute)
	DefaultOfferHold    = Duration(30 * time.Second)
	DefaultDHCPWorkers  = 8
)

// dhcpServer checks the full-mode settings: the subnets' extra ranges and
// options, the server's tunables and the machines' dhcp overrides.
func (v *validator) dhcpServer() {
	d := &v.cfg.DHCP
	if d.ConflictDetection == nil {
		on := true
		d.ConflictDetection = &on
	}
	v.positiveDuration("dhcp.probe_timeout", &d.ProbeTimeout, DefaultProbeTimeout)
	v.positiveDuration("dhcp.decline_hold", &d.DeclineHold, DefaultDeclineHold)
	v.positiveDuration("dhcp.offer_hold", &d.OfferHold, DefaultOfferHold)
	if d.MaxNewLeasesPerSecond < 0 {
		v.errorf("dhcp.max_new_leases_per_second", "must be 0 (no cap) or more, got %d", d.MaxNewLeasesPerSecond)
	}
	switch {
	case d.Workers == 0:
		d.Workers = DefaultDHCPWorkers
	case d.Workers < 0 || d.Workers > 4096:
		v.errorf("dhcp.workers", "must be between 1 and 4096, got %d", d.Workers)
	}
	for i := range d.Subnets {
		v.subnetExtras(indexPath("dhcp.subnets", i), &d.Subnets[i])
	}
	for i := range v.cfg.Machines {
		if m := v.cfg.Machines[i].DHCP; m != nil {
			v.machineDHCP(keyPath(indexPath("machines", i), "dhcp"), m)
		}
	}
}

func (v *validator) positiveDuration(p string, d *Duration, def Duration) {
	switch {
	case *d == 0:
		*d = def
	case *d < 0:
		v.errorf(p, "must be longer than 0s, got %s", *d)
	}
}

// subnetExtras fills Pools from range and ranges and checks ntp, mtu and
// routes.
func (v *validator) subnetExtras(p string, s *Subnet) {
	if s.IPv6() {
		v.subnet6Extras(p, s)
		return
	}
	if s.RangeStart.IsValid() {
		s.Pools = append(s.Pools, AddrRange{s.RangeStart, s.RangeEnd})
	}
	for i, r := range s.Ranges {
		rp := indexPath(keyPath(p, "ranges"), i)
		if ar, ok := v.oneRange(rp, r, s.Prefix); ok {
			v.rangeOverlap(rp, ar, s.Pools)
			s.Pools = append(s.Pools, ar)
		}
	}
	if len(s.Ranges) > 0 && s.Range == "" {
		s.RangeStart, s.RangeEnd = s.Pools[0].First, s.Pools[0].Last
	}
	s.NTPAddrs = v.ipv4List(keyPath(p, "ntp"), s.NTP)
	v.mtu(keyPath(p, "mtu"), s.MTU)
	for i := range s.Routes {
		v.route(indexPath(keyPath(p, "routes"), i), &s.Routes[i])
	}
}

// oneRange parses "first-last" inside prefix.
func (v *validator) oneRange(p, r string, prefix netip.Prefix) (AddrRange, bool) {
	first, last, ok := strings.Cut(r, "-")
	if !ok {
		v.errorf(p, "%q is not a range such as 192.0.2.100-192.0.2.200", r)
		return AddrRange{}, false
	}
	a, b := v.ipv4(p, strings.TrimSpace(first)), v.ipv4(p, strings.TrimSpace(last))
	switch {
	case !a.IsValid() || !b.IsValid():
		return AddrRange{}, false
	case b.Less(a):
		v.errorf(p, "range starts at %s, after its end %s", a, b)
		return AddrRange{}, false
	case prefix.IsValid() && !(prefix.Contains(a) && prefix.Contains(b)):
		v.errorf(p, "range %s-%s is not inside %s", a, b, prefix)
		return AddrRange{}, false
	}
	return AddrRange{a, b}, true
}

func (v *validator) rangeOverlap(p string, r AddrRange, earlier []AddrRange) {
	for _, e := range earlier {
		if !(r.Last.Less(e.First) || e.Last.Less(r.First)) {
			v.errorf(p, "range %s-%s overlaps %s-%s of the same subnet", r.First, r.Last, e.First, e.Last)
			return
		}
	}
}

func (v *validator) ipv4List(p string, list []string) []netip.Addr {
	var out []netip.Addr
	for i, s := range list {
		if a := v.ipv4(indexPath(p, i), s); a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

// mtu checks option 26 (RFC 2132 section 5.1): at least 68.
func (v *validator) mtu(p string, n int) {
	if n != 0 && (n < 68 || n > 65535) {
		v.errorf(p, "%d is not an interface MTU (68-65535)", n)
	}
}

// route checks one classless static route (RFC 3442).
func (v *validator) route(p string, r *Route) {
	pfx, err := netip.ParsePrefix(r.To)
	if err != nil || !pfx.Addr().Is4() {
		v.errorf(keyPath(p, "to"), "%q is not an IPv4 network such as 10.0.0.0/8", r.To)
	} else {
		r.Dest = pfx.Masked()
	}
	r.Gateway = v.ipv4(keyPath(p, "via"), r.Via)
}

// machineDHCP checks a machine's option overrides.
func (v *validator) machineDHCP(p string, m *MachineDHCP) {
	if m.Router != "" {
		m.RouterAddr = v.ipv4(keyPath(p, "router"), m.Router)
	}
	m.DNSAddrs = v.ipv4List(keyPath(p, "dns"), m.DNS)
	m.NTPAddrs = v.ipv4List(keyPath(p, "ntp"), m.NTP)
	v.mtu(keyPath(p, "mtu"), m.MTU)
	if m.LeaseTime < 0 {
		v.errorf(keyPath(p, "lease_time"), "must be longer than 0s, got %s", m.LeaseTime)
	}
}
