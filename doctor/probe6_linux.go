package doctor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"golang.org/x/sys/unix"
)

// Probe6 sends one PXE Solicit (Solicit6) from a random locally
// administered MAC to ff02::1:2 on ifi and collects every Advertise
// within wait, one per server DUID. It binds UDP 546 on ifi only (with
// SO_REUSEADDR, beside a DHCPv6 client), which needs root or
// CAP_NET_BIND_SERVICE.
func Probe6(ifi *net.Interface, wait time.Duration) ([]Answer6, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = errors.Join(unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1), unix.BindToDevice(int(fd), ifi.Name))
		})
		return errors.Join(err, serr)
	}}
	conn, err := lc.ListenPacket(context.Background(), "udp6", "[::]:546")
	if err != nil {
		return nil, fmt.Errorf("udp port 546 on %s: %w", ifi.Name, err)
	}
	defer conn.Close()
	var mac [6]byte
	var xid dhcpv6.TransactionID
	rand.Read(mac[:])
	rand.Read(xid[:])
	mac[0] = mac[0]&^1 | 2
	to := &net.UDPAddr{IP: net.ParseIP("ff02::1:2"), Port: 547, Zone: ifi.Name}
	if _, err := conn.WriteTo(Solicit6(mac[:], xid).ToBytes(), to); err != nil {
		return nil, fmt.Errorf("sending the Solicit on %s: %w", ifi.Name, err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	seen := map[string]bool{}
	var out []Answer6
	buf := make([]byte, 65536)
	for {
		n, src, err := conn.ReadFrom(buf)
		if isTimeout(err) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		ua, _ := src.(*net.UDPAddr)
		from, _ := netip.AddrFromSlice(ua.IP)
		if a, ok := ParseAnswer6(buf[:n], from, xid); ok && !seen[a.Server] {
			seen[a.Server] = true
			out = append(out, a)
		}
	}
}
