package doctor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/sys/unix"
)

// Probe sends one PXE DISCOVER from a random locally administered MAC on
// ifi and collects every OFFER that answers it within wait, one per
// server. It binds UDP 68 on ifi only (SO_BINDTODEVICE, SO_REUSEADDR
// beside a DHCP client), which needs root or CAP_NET_BIND_SERVICE.
func Probe(ifi *net.Interface, wait time.Duration) ([]Answer, error) {
	conn, err := listen(ifi.Name, 68)
	if err != nil {
		return nil, fmt.Errorf("udp port 68 on %s: %w", ifi.Name, err)
	}
	defer conn.Close()
	var mac [6]byte
	var uuid [16]byte
	rand.Read(mac[:])
	rand.Read(uuid[:])
	mac[0] = mac[0]&^1 | 2 // unicast, locally administered
	xid := dhcpv4.TransactionID{}
	rand.Read(xid[:])
	req, err := Discover(mac[:], xid, uuid)
	if err != nil {
		return nil, err
	}
	if _, err := conn.WriteTo(req.ToBytes(), &net.UDPAddr{IP: net.IPv4bcast, Port: 67}); err != nil {
		return nil, fmt.Errorf("sending the DISCOVER on %s: %w", ifi.Name, err)
	}
	return collect(conn, xid, time.Now().Add(wait))
}

// collect reads answers to xid until deadline, keeping one per server.
func collect(conn net.PacketConn, xid dhcpv4.TransactionID, deadline time.Time) ([]Answer, error) {
	conn.SetReadDeadline(deadline)
	seen := map[netip.Addr]bool{}
	var out []Answer
	buf := make([]byte, 65536)
	for {
		n, src, err := conn.ReadFrom(buf)
		if errors.Is(err, syscall.EAGAIN) || isTimeout(err) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		ua, _ := src.(*net.UDPAddr)
		from, _ := netip.AddrFromSlice(ua.IP.To4())
		a, ok := ParseAnswer(buf[:n], from, xid)
		if ok && !seen[a.Server] {
			seen[a.Server] = true
			out = append(out, a)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// listen opens a UDP socket on port, on device dev only, that can send
// broadcasts.
func listen(dev string, port int) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = errors.Join(unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1),
				unix.BindToDevice(int(fd), dev))
		})
		return errors.Join(err, serr)
	}}
	return lc.ListenPacket(context.Background(), "udp4", ":"+strconv.Itoa(port))
}
