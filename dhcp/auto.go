package dhcp

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/rackboot/rackboot/config"
)

// AutoSubnet is the subnet served when full mode names none: the
// interface's own network, handing out the upper half of its addresses
// (the broadcast address excluded), without router or DNS, 1 hour leases.
func AutoSubnet(ifPrefix netip.Prefix) (config.Subnet, error) {
	p := ifPrefix.Masked()
	if !p.Addr().Is4() || p.Bits() > 29 {
		return config.Subnet{}, fmt.Errorf("interface network %s is too small to hand out addresses from: configure dhcp.subnets", ifPrefix)
	}
	size := uint32(1) << (32 - p.Bits())
	base := p.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	start, end := u32Addr(n+size/2), u32Addr(n+size-2)
	return config.Subnet{
		CIDR: p.String(), Range: start.String() + "-" + end.String(),
		LeaseTime: config.Duration(time.Hour),
		Prefix:    p, RangeStart: start, RangeEnd: end,
		Pools: []config.AddrRange{{First: start, Last: end}},
	}, nil
}

func u32Addr(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
