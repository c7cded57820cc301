package dhcpwire

import (
	"fmt"
	"net"
	"net/netip"
)

// PacketConn is a Conn on a UDP socket: the PXE boot server port 4011,
// whose requests come from clients that have an address and whose replies
// go back to the source (RouteToSource).
type PacketConn struct {
	pc  net.PacketConn
	buf []byte
}

var _ Conn = (*PacketConn)(nil)

// NewPacketConn wraps a UDP socket.
func NewPacketConn(pc net.PacketConn) *PacketConn {
	return &PacketConn{pc: pc, buf: make([]byte, 65536)}
}

// ReadRequest implements Conn.
func (c *PacketConn) ReadRequest() ([]byte, netip.AddrPort, error) {
	n, from, err := c.pc.ReadFrom(c.buf)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	var src netip.AddrPort
	if ua, ok := from.(*net.UDPAddr); ok {
		src = ua.AddrPort()
	}
	return c.buf[:n], src, nil
}

// Send implements Conn: only routed deliveries (to an address that has a
// route) can go through a UDP socket.
func (c *PacketConn) Send(payload []byte, to Delivery) error {
	if to.L2() {
		return fmt.Errorf("a UDP socket cannot send a link-layer delivery to %s", to.IP)
	}
	_, err := c.pc.WriteTo(payload, net.UDPAddrFromAddrPort(netip.AddrPortFrom(to.IP.Unmap(), uint16(to.Port))))
	return err
}

// Close implements Conn.
func (c *PacketConn) Close() error { return c.pc.Close() }
