package config

import (
	"net/netip"
	"strings"
)

// serverAddresses checks server.address (IPv4 or IPv6) and
// server.address6 (IPv6, beside an IPv4 address: dual stack).
func (v *validator) serverAddresses(s *Server) {
	if s.Address != "" {
		switch a, err := netip.ParseAddr(s.Address); {
		case err != nil || a.Zone() != "":
			v.errorf("server.address", "%q is not an IPv4 or IPv6 address", s.Address)
		case a.Is4():
			s.Addr = a
		default:
			s.Addr6 = v.advertisable6("server.address", a)
		}
	}
	if s.Address6 == "" {
		return
	}
	if s.Addr6.IsValid() {
		v.errorf("server.address6", "server.address is IPv6 already (%s); address6 is the IPv6 address beside an IPv4 server.address", s.Addr6)
		return
	}
	if a := v.ipv6("server.address6", s.Address6); a.IsValid() {
		s.Addr6 = v.advertisable6("server.address6", a)
	}
}

// advertisable6 refuses addresses a URL cannot carry to a client: a
// link-local one needs a zone, multicast and :: are nobody's.
func (v *validator) advertisable6(p string, a netip.Addr) netip.Addr {
	if a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() || a.Is4In6() {
		v.errorf(p, "%s cannot be advertised in boot URLs; use a global or unique-local IPv6 address", a)
		return netip.Addr{}
	}
	return a
}

// ipv6 parses s as an IPv6 address (not IPv4-mapped, no zone), recording
// an error at p if it is not one; it returns the zero Addr then.
func (v *validator) ipv6(p, s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		v.errorf(p, "%q is not an IPv6 address", s)
		return netip.Addr{}
	}
	return a
}

// isIPv6Network reports whether cidr is written as an IPv6 network, so the
// subnet is checked by the IPv6 rules.
func isIPv6Network(cidr string) bool {
	pfx, err := netip.ParsePrefix(cidr)
	return err == nil && pfx.Addr().Is6()
}

// subnet6 checks an IPv6 subnet (DHCPv6, RFC 8415): a network (usually a
// /64), a range of IPv6 addresses inside it, IPv6 name servers (option 23). Routers are not DHCPv6's
// business: clients learn them from router advertisements.
func (v *validator) subnet6(p string, s *Subnet) {
	pfx := netip.MustParsePrefix(s.CIDR)
	if pfx.Addr().Is4In6() || pfx.Addr().Zone() != "" || pfx.Bits() == 0 {
		v.errorf(keyPath(p, "cidr"), "%q is not an IPv6 network such as 2001:db8:1::/64", s.CIDR)
	} else {
		s.Prefix = pfx.Masked()
	}
	if s.Range != "" {
		if r, ok := v.oneRange6(keyPath(p, "range"), s.Range, s.Prefix); ok {
			s.RangeStart, s.RangeEnd = r.First, r.Last
		}
	}
	if s.Router != "" {
		v.errorf(keyPath(p, "router"), "an IPv6 subnet has no router key: clients learn their router from router advertisements (radvd, dnsmasq enable-ra or the network's router; docs/ipv6.md)")
	}
	for i, dns := range s.DNS {
		if a := v.ipv6(indexPath(keyPath(p, "dns"), i), dns); a.IsValid() {
			s.DNSAddrs = append(s.DNSAddrs, a)
		}
	}
	if s.LeaseTime <= 0 {
		v.errorf(keyPath(p, "lease_time"), "must be longer than 0s, got %s", s.LeaseTime)
	}
}

// subnet6Extras fills an IPv6 subnet's Pools from range and ranges and
// refuses the IPv4-only options.
func (v *validator) subnet6Extras(p string, s *Subnet) {
	if s.RangeStart.IsValid() {
		s.Pools = append(s.Pools, AddrRange{s.RangeStart, s.RangeEnd})
	}
	for i, r := range s.Ranges {
		rp := indexPath(keyPath(p, "ranges"), i)
		if ar, ok := v.oneRange6(rp, r, s.Prefix); ok {
			v.rangeOverlap(rp, ar, s.Pools)
			s.Pools = append(s.Pools, ar)
		}
	}
	if len(s.Ranges) > 0 && s.Range == "" && len(s.Pools) > 0 {
		s.RangeStart, s.RangeEnd = s.Pools[0].First, s.Pools[0].Last
	}
	for _, o := range []struct {
		key string
		set bool
	}{{"ntp", len(s.NTP) > 0}, {"mtu", s.MTU != 0}, {"routes", len(s.Routes) > 0}} {
		if o.set {
			v.errorf(keyPath(p, o.key), "is an IPv4 option (DHCPv4); an IPv6 subnet does not take it")
		}
	}
}

// oneRange6 parses "first-last" of IPv6 addresses inside prefix.
func (v *validator) oneRange6(p, r string, prefix netip.Prefix) (AddrRange, bool) {
	first, last, ok := strings.Cut(r, "-")
	if !ok {
		v.errorf(p, "%q is not a range such as 2001:db8:1::100-2001:db8:1::1ff", r)
		return AddrRange{}, false
	}
	a, b := v.ipv6(p, strings.TrimSpace(first)), v.ipv6(p, strings.TrimSpace(last))
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
