package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/sys/unix"
)

// dhcpClient is every simulated machine's DHCP client on one UDP socket
// bound to port 68 on the namespace's interface. Requests are broadcast
// with the broadcast flag set (RFC 2131 section 4.1), so the servers
// broadcast their replies and one socket hears them all; replies are
// handed to the exchange waiting for their transaction ID.
type dhcpClient struct {
	conn *net.UDPConn

	mu      sync.Mutex
	waiting map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4
}

// listenDHCP opens the shared client socket on iface.
func listenDHCP(iface string) (*dhcpClient, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			for _, o := range [][2]int{{unix.SO_REUSEADDR, 1}, {unix.SO_BROADCAST, 1}, {unix.SO_RCVBUFFORCE, 8 << 20}, {unix.SO_SNDBUFFORCE, 4 << 20}} {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], o[1]); serr != nil {
					return
				}
			}
			serr = unix.BindToDevice(int(fd), iface)
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:68")
	if err != nil {
		return nil, fmt.Errorf("dhcp client socket on %s: %w", iface, err)
	}
	c := &dhcpClient{conn: pc.(*net.UDPConn), waiting: map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4{}}
	go c.read()
	return c, nil
}

func (c *dhcpClient) read() {
	b := make([]byte, 2048)
	for {
		n, _, err := c.conn.ReadFromUDP(b)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, err := dhcpv4.FromBytes(b[:n])
		if err != nil || m.OpCode != dhcpv4.OpcodeBootReply {
			continue
		}
		c.mu.Lock()
		ch := c.waiting[m.TransactionID]
		c.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

// exchange sends req and waits for a reply of one of the wanted types,
// resending with the firmware's back-off (waits[i] before the i-th resend).
func (c *dhcpClient) exchange(ctx context.Context, req *dhcpv4.DHCPv4, waits []time.Duration, want ...dhcpv4.MessageType) (*dhcpv4.DHCPv4, error) {
	ch := make(chan *dhcpv4.DHCPv4, 8)
	c.mu.Lock()
	c.waiting[req.TransactionID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, req.TransactionID)
		c.mu.Unlock()
	}()
	dst := &net.UDPAddr{IP: net.IPv4bcast, Port: 67}
	for _, w := range waits {
		if _, err := c.conn.WriteToUDP(req.ToBytes(), dst); err != nil {
			return nil, fmt.Errorf("sending %s: %w", req.MessageType(), err)
		}
		t := time.NewTimer(w)
		for again := true; again; {
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
				again = false
			case m := <-ch:
				for _, mt := range want {
					if m.MessageType() == mt {
						t.Stop()
						return m, nil
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("no answer to %s after %d tries", req.MessageType(), len(waits))
}

// Close closes the socket.
func (c *dhcpClient) Close() error { return c.conn.Close() }
