package tftp

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/net/ipv6"
)

// ipv6Extra is how much more an IPv6 header takes than an IPv4 one (40
// against 20 bytes), off the largest unfragmented block.
const ipv6Extra = 20

func isIPv6(a net.Addr) bool {
	ua, ok := a.(*net.UDPAddr)
	return ok && ua.IP != nil && ua.IP.To4() == nil
}

// serve6 is Serve's loop for an IPv6 socket ([::]:69): the destination
// address and interface come from IPV6_PKTINFO.
func (s *Server) serve6(conn net.PacketConn) error {
	pc := ipv6.NewPacketConn(conn)
	cm := pc.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true) == nil
	buf := make([]byte, maxPacket)
	for {
		n, ctl, src, err := pc.ReadFrom(buf)
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("tftp: reading a request: %w", err)
		}
		client, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		var dst net.IP
		ifIndex := 0
		if cm && ctl != nil {
			dst, ifIndex = ctl.Dst, ctl.IfIndex
		}
		if dst != nil && dst.IsLinkLocalUnicast() && ifIndex > 0 {
			client.Zone = zoneOf(ifIndex, client.Zone)
		}
		s.handle(conn, buf[:n], client, dst, ifIndex)
	}
}

func zoneOf(ifIndex int, zone string) string {
	if zone != "" {
		return zone
	}
	if ifi, err := net.InterfaceByIndex(ifIndex); err == nil {
		return ifi.Name
	}
	return zone
}

// localAddr6 is the address an IPv6 transfer answers from: the one the
// request came to, unless that was multicast (the kernel picks then).
func localAddr6(dst net.IP) *net.UDPAddr {
	if dst.IsMulticast() || dst.IsUnspecified() || dst.IsLinkLocalUnicast() {
		return &net.UDPAddr{IP: net.IPv6unspecified}
	}
	return &net.UDPAddr{IP: dst}
}

// dial6 opens an IPv6 transfer's socket on Go's netpoller (the blocking
// sockets are IPv4's).
func dial6(local, client *net.UDPAddr) (transferConn, func(), error) {
	c, err := net.DialUDP("udp6", local, client)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

// network is the UDP network that reaches a: "udp6" for an IPv6 address.
func network(a *net.UDPAddr) string {
	if a.IP.To4() == nil {
		return "udp6"
	}
	return "udp4"
}
