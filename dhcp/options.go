package dhcp

import (
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/config"
)

// options are the network options of one reply: the subnet's, with the
// machine's overrides applied.
type options struct {
	prefix    netip.Prefix
	router    netip.Addr
	dns, ntp  []netip.Addr
	domain    string
	mtu       int
	leaseTime time.Duration
	routes    []config.Route
}

// effectiveOptions merges a machine's dhcp overrides over its subnet's.
func effectiveOptions(sc config.Subnet, m *config.Machine) options {
	o := options{
		prefix: sc.Prefix, router: sc.RouterAddr, dns: sc.DNSAddrs, ntp: sc.NTPAddrs,
		domain: sc.Domain, mtu: sc.MTU, leaseTime: time.Duration(sc.LeaseTime), routes: sc.Routes,
	}
	if m == nil || m.DHCP == nil {
		return o
	}
	md := m.DHCP
	if md.RouterAddr.IsValid() {
		o.router = md.RouterAddr
	}
	if len(md.DNSAddrs) > 0 {
		o.dns = md.DNSAddrs
	}
	if len(md.NTPAddrs) > 0 {
		o.ntp = md.NTPAddrs
	}
	if md.Domain != "" {
		o.domain = md.Domain
	}
	if md.MTU != 0 {
		o.mtu = md.MTU
	}
	if md.LeaseTime > 0 {
		o.leaseTime = time.Duration(md.LeaseTime)
	}
	return o
}

// leaseTime is how long the machine's lease on this subnet lasts.
func (h *Handler) leaseTime(sn *subnet, m *config.Machine) time.Duration {
	return effectiveOptions(sn.cfg, m).leaseTime
}

// addOptions adds the subnet's options to a reply, with m's dhcp
// overrides when it has any.
func (sn *subnet) addOptions(r *dhcpv4.DHCPv4, m *config.Machine) {
	if m != nil && m.DHCP != nil {
		addOptions(r, effectiveOptions(sn.cfg, m))
		return
	}
	sn.opts.addTo(r)
}

// encodedOptions are options as addOptions puts them in a reply, encoded
// once rather than on every reply.
type encodedOptions struct {
	opts dhcpv4.Options
	size int // the values' total length
}

func encodeOptions(o options) encodedOptions {
	r := dhcpv4.DHCPv4{Options: dhcpv4.Options{}}
	addOptions(&r, o)
	e := encodedOptions{opts: r.Options}
	for _, v := range e.opts {
		e.size += len(v)
	}
	return e
}

// addTo sets the options in r, their values copied into one buffer of
// r's own.
func (e encodedOptions) addTo(r *dhcpv4.DHCPv4) {
	buf := make([]byte, 0, e.size)
	for code, v := range e.opts {
		buf = append(buf, v...)
		r.Options[code] = buf[len(buf)-len(v) : len(buf) : len(buf)]
	}
}

// addOptions adds mask (1), router (3), DNS (6), domain (15), MTU (26),
// NTP (42), lease time (51) (RFC 2132) and classless routes (121, RFC
// 3442).
func addOptions(r *dhcpv4.DHCPv4, o options) {
	r.UpdateOption(dhcpv4.OptSubnetMask(net.CIDRMask(o.prefix.Bits(), 32)))
	if o.router.IsValid() {
		r.UpdateOption(dhcpv4.OptRouter(o.router.AsSlice()))
	}
	if len(o.dns) > 0 {
		r.UpdateOption(dhcpv4.OptDNS(ips(o.dns)...))
	}
	if o.domain != "" {
		r.UpdateOption(dhcpv4.OptDomainName(o.domain))
	}
	if o.mtu != 0 {
		r.UpdateOption(dhcpv4.OptGeneric(dhcpv4.OptionInterfaceMTU, []byte{byte(o.mtu >> 8), byte(o.mtu)}))
	}
	if len(o.ntp) > 0 {
		r.UpdateOption(dhcpv4.OptNTPServers(ips(o.ntp)...))
	}
	if len(o.routes) > 0 {
		r.UpdateOption(dhcpv4.OptClasslessStaticRoute(classlessRoutes(o.routes, o.router)...))
	}
	r.UpdateOption(dhcpv4.OptIPAddressLeaseTime(o.leaseTime))
}

// classlessRoutes lists option 121's routes (RFC 3442 section 3). A
// client that gets option 121 ignores the router option, so the default
// route through the router is added when there is one.
func classlessRoutes(routes []config.Route, router netip.Addr) []*dhcpv4.Route {
	var out []*dhcpv4.Route
	hasDefault := false
	for _, rt := range routes {
		out = append(out, route(rt.Dest, rt.Gateway))
		hasDefault = hasDefault || rt.Dest.Bits() == 0
	}
	if router.IsValid() && !hasDefault {
		out = append(out, route(netip.PrefixFrom(netip.IPv4Unspecified(), 0), router))
	}
	return out
}

func route(dest netip.Prefix, gw netip.Addr) *dhcpv4.Route {
	return &dhcpv4.Route{
		Dest:   &net.IPNet{IP: dest.Addr().AsSlice(), Mask: net.CIDRMask(dest.Bits(), 32)},
		Router: gw.AsSlice(),
	}
}

func ips(as []netip.Addr) []net.IP {
	out := make([]net.IP, len(as))
	for i, a := range as {
		out[i] = a.AsSlice()
	}
	return out
}

// addMachineOptions adds what the inventory says of this machine.
func addMachineOptions(r *dhcpv4.DHCPv4, m *config.Machine) {
	if m != nil && m.Hostname != "" {
		r.UpdateOption(dhcpv4.OptHostName(m.Hostname))
	}
}
