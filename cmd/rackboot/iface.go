package main

import (
	"fmt"
	"net"
	"net/netip"
)

// pickInterface returns the named interface, or the first one that is up,
// is not a loopback and has an IPv4 address (else the first with a global
// IPv6 address: an IPv6-only network); with that interface's first IPv4
// address and prefix, invalid when it has none but an IPv6 address.
func pickInterface(name string) (*net.Interface, netip.Prefix, error) {
	if name != "" {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return nil, netip.Prefix{}, fmt.Errorf("interface %q: %w", name, err)
		}
		p, err := ipv4Prefix(ifi)
		if err != nil && ipv6Global(ifi).IsValid() {
			return ifi, netip.Prefix{}, nil
		}
		return ifi, p, err
	}
	ifis, err := net.Interfaces()
	if err != nil {
		return nil, netip.Prefix{}, err
	}
	for i := range ifis {
		ifi := &ifis[i]
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		if p, err := ipv4Prefix(ifi); err == nil {
			return ifi, p, nil
		}
	}
	if ifi := firstIPv6Interface(ifis); ifi != nil {
		return ifi, netip.Prefix{}, nil
	}
	return nil, netip.Prefix{}, fmt.Errorf("no up interface with an IPv4 or global IPv6 address: name one with --interface or server.interface")
}

// ipv4Prefix returns the interface's first IPv4 address with its prefix.
func ipv4Prefix(ifi *net.Interface) (netip.Prefix, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("interface %s: %w", ifi.Name, err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.To4() == nil {
			continue
		}
		addr, _ := netip.AddrFromSlice(n.IP.To4())
		ones, _ := n.Mask.Size()
		return netip.PrefixFrom(addr, ones), nil
	}
	return netip.Prefix{}, fmt.Errorf("interface %s has no IPv4 address", ifi.Name)
}
