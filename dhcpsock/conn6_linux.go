//go:build linux

package dhcpsock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/rackboot/rackboot/dhcp6"
)

// AllServers is All_DHCP_Relay_Agents_and_Servers (RFC 8415 section 7.1).
var AllServers = netip.MustParseAddr("ff02::1:2")

// Conn6 is the DHCPv6 server socket of one interface. Requests are read
// through an AF_PACKET socket (UDP to port 547), because only the frame
// tells a client's MAC address: DUIDs do not (iPXE sends a DUID-UUID) and
// the neighbour table has no entry for a client that has only sent
// multicast. A UDP socket bound to [::]:547 on the interface joins
// ff02::1:2 (so the interface accepts the group's frames), keeps the kernel
// from answering "port unreachable", and sends the replies; a filter that
// drops everything keeps requests from queueing on it too.
type Conn6 struct {
	ifi *net.Interface
	pc  *packet.Conn
	udp *net.UDPConn
	buf []byte
}

var _ dhcp6.Conn = (*Conn6)(nil)

// Listen6 opens the DHCPv6 socket on ifi. When port 547 is held by a
// DHCPv6 server on this host that does not share it (proxy mode beside
// it), replies go out from an ephemeral port instead, which the firmware
// rackboot was tried with accepts.
func Listen6(ifi *net.Interface) (*Conn6, error) {
	filter, err := request6Filter(dhcp6.ServerPort)
	if err != nil {
		return nil, err
	}
	pc, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_IPV6, &packet.Config{Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("raw socket on %s: %w", ifi.Name, err)
	}
	if rc, err := pc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { deepenQueue(int(fd)) })
	}
	c := &Conn6{ifi: ifi, pc: pc, buf: make([]byte, 65536)}
	if c.udp, err = listenUDP6(ifi.Name, dhcp6.ServerPort); err != nil {
		if c.udp, err = listenUDP6(ifi.Name, 0); err != nil {
			pc.Close()
			return nil, err
		}
	}
	if err := ipv6.NewPacketConn(c.udp).JoinGroup(ifi, &net.UDPAddr{IP: AllServers.AsSlice()}); err != nil {
		c.Close()
		return nil, fmt.Errorf("joining %s on %s: %w", AllServers, ifi.Name, err)
	}
	return c, nil
}

// Port is the port replies leave from: 547, or an ephemeral one when
// another server holds 547.
func (c *Conn6) Port() int { return c.udp.LocalAddr().(*net.UDPAddr).Port }

// request6Filter passes IPv6 packets whose next header is UDP to port.
// Packet sockets of type SOCK_DGRAM start at the IPv6 header.
func request6Filter(port uint32) ([]bpf.RawInstruction, error) {
	return bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 6, Size: 1},                      // next header
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: 3}, // UDP?
		bpf.LoadAbsolute{Off: ipv6HeaderLen + 2, Size: 2},      // UDP destination port
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: port, SkipFalse: 1},
		bpf.RetConstant{Val: 65535},
		bpf.RetConstant{Val: 0},
	})
}

// listenUDP6 binds [::]:port on one device, sharing the port; port 0
// takes an ephemeral one.
func listenUDP6(dev string, port int) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
				return
			}
			if serr = unix.BindToDevice(int(fd), dev); serr != nil {
				return
			}
			serr = dropAll(int(fd))
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp6", fmt.Sprintf("[::]:%d", port))
	if err != nil {
		return nil, fmt.Errorf("udp port %d on %s: %w", port, dev, err)
	}
	return pc.(*net.UDPConn), nil
}

// ReadRequest implements dhcp6.Conn: the next datagram to port 547 that
// this host did not send, with its source address (zoned to the
// interface) and Ethernet source.
func (c *Conn6) ReadRequest() ([]byte, dhcp6.Source, error) {
	for {
		n, from, err := c.pc.ReadFrom(c.buf)
		if err != nil {
			return nil, dhcp6.Source{}, err
		}
		d, err := parseUDP6(c.buf[:n])
		if err != nil || d.DstPort != dhcp6.ServerPort {
			continue
		}
		src := dhcp6.Source{Addr: netip.AddrPortFrom(d.Src.WithZone(c.ifi.Name), d.SrcPort)}
		if pa, ok := from.(*packet.Addr); ok {
			if bytes.Equal(pa.HardwareAddr, c.ifi.HardwareAddr) {
				continue // our own frame, seen on its way out
			}
			src.MAC = pa.HardwareAddr
		}
		return d.Payload, src, nil
	}
}

// Send implements dhcp6.Conn.
func (c *Conn6) Send(payload []byte, to netip.AddrPort) error {
	ua := net.UDPAddrFromAddrPort(to)
	if to.Addr().IsLinkLocalUnicast() && ua.Zone == "" {
		ua.Zone = c.ifi.Name
	}
	_, err := c.udp.WriteToUDP(payload, ua)
	return err
}

// Close implements dhcp6.Conn.
func (c *Conn6) Close() error {
	var err error
	if c.udp != nil {
		err = c.udp.Close()
	}
	return errors.Join(err, c.pc.Close())
}
