//go:build linux

// Package dhcpsock is rackboot's Linux DHCP socket code: requests read
// through an AF_PACKET socket with a BPF filter, replies sent as frames or
// through UDP, and ARP/ICMP conflict probes. Elsewhere it only reports that
// it needs Linux.
package dhcpsock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/rackboot/rackboot/dhcpwire"
)

// RawConn reads UDP port 67 through an AF_PACKET socket on one interface,
// so it sees broadcasts whoever holds the port, and sends replies as IPv4
// datagrams to a MAC address (to a client that has no address yet) or,
// for relays and clients that have one, through a UDP socket.
type RawConn struct {
	pc     *packet.Conn
	in     *batchReader
	udp    *net.UDPConn // nil when another process holds port 67
	udpRaw syscall.RawConn
	src    netip.Addr
	closed atomic.Bool
}

var _ dhcpwire.Conn = (*RawConn)(nil)

// ListenRaw opens the raw socket on ifi with a BPF filter that passes only
// unfragmented IPv4 UDP datagrams to port 67 carrying a BOOTREQUEST; every
// request is read there. With bindUDP it also binds UDP port 67 on the
// interface: that socket sends routed unicast replies (to relays, to
// clients that have an address) and keeps the kernel from answering "port
// unreachable" to unicast requests; a filter that drops everything keeps
// requests from queueing on it a second time. src is the replies' source
// address.
func ListenRaw(ifi *net.Interface, src netip.Addr, bindUDP bool) (*RawConn, error) {
	filter, err := requestFilter(67)
	if err != nil {
		return nil, err
	}
	pc, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_IP, &packet.Config{Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("raw socket on %s: %w", ifi.Name, err)
	}
	rc, err := pc.SyscallConn()
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("raw socket on %s: %w", ifi.Name, err)
	}
	rc.Control(func(fd uintptr) { deepenQueue(int(fd)) })
	c := &RawConn{pc: pc, in: newBatchReader(rc), src: src}
	if bindUDP {
		if c.udp, err = listenUDP(ifi.Name, 67); err != nil {
			pc.Close()
			return nil, err
		}
		if c.udpRaw, err = c.udp.SyscallConn(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// requestFilter is a classic BPF program over the IPv4 header (packet
// sockets of type SOCK_DGRAM start at the network header).
func requestFilter(port uint32) ([]bpf.RawInstruction, error) {
	return bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 9, Size: 1},                           // IP protocol
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: 7},      // UDP?
		bpf.LoadAbsolute{Off: 6, Size: 2},                           // flags + fragment offset
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 5}, // not a later fragment
		bpf.LoadMemShift{Off: 0},                                    // X = IP header length
		bpf.LoadIndirect{Off: 2, Size: 2},                           // UDP destination port
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: port, SkipFalse: 2},
		bpf.LoadIndirect{Off: 8, Size: 1},                    // BOOTP op
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipTrue: 1}, // BOOTREQUEST
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 65535},
	})
}

// recvBuffer is the receive buffer asked for on the UDP socket.
const recvBuffer = 4 << 20

// listenUDP binds 0.0.0.0:port on one device, sharing the port.
func listenUDP(dev string, port int) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			for _, o := range []int{unix.SO_REUSEADDR, unix.SO_BROADCAST} {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o, 1); serr != nil {
					return
				}
			}
			if serr = unix.BindToDevice(int(fd), dev); serr != nil {
				return
			}
			serr = dropAll(int(fd))
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		return nil, fmt.Errorf("udp port %d on %s: %w", port, dev, err)
	}
	return pc.(*net.UDPConn), nil
}

// deepenQueue asks for a deep receive queue, to absorb bursts (root may
// pass rmem_max); best effort.
func deepenQueue(fd int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, recvBuffer) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, recvBuffer)
	}
}

// dropAll attaches a socket filter that accepts nothing: the UDP socket
// holds the port and sends, the raw socket reads.
func dropAll(fd int) error {
	prog, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]})
}

// ReadRequest implements dhcpwire.Conn. Requests are read in batches
// (batchReader); after Close it returns net.ErrClosed.
func (c *RawConn) ReadRequest() ([]byte, netip.AddrPort, error) {
	for {
		b, err := c.in.read()
		if err != nil {
			if c.closed.Load() {
				err = net.ErrClosed
			}
			return nil, netip.AddrPort{}, err
		}
		d, err := parseUDP4(b)
		if err != nil || d.DstPort != 67 {
			continue
		}
		return d.Payload, netip.AddrPortFrom(d.Src, d.SrcPort), nil
	}
}

// Send implements dhcpwire.Conn.
func (c *RawConn) Send(payload []byte, to dhcpwire.Delivery) error {
	if to.L2() {
		frame := udp4{Src: c.src, Dst: to.IP, SrcPort: 67, DstPort: uint16(to.Port), Payload: payload}.marshal()
		_, err := c.pc.WriteTo(frame, &packet.Addr{HardwareAddr: to.MAC})
		return err
	}
	if c.udp == nil {
		return fmt.Errorf("no UDP socket to reach %s", to.IP)
	}
	return sendTo(c.udpRaw, payload, netip.AddrPortFrom(to.IP, uint16(to.Port)))
}

// Close implements dhcpwire.Conn.
func (c *RawConn) Close() error {
	c.closed.Store(true)
	var err error
	if c.udp != nil {
		err = c.udp.Close()
	}
	return errors.Join(err, c.pc.Close())
}
