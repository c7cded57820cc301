package doctor

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// CheckPorts tries to bind each port rackboot needs, on every address,
// and says which are free.
func CheckPorts(httpPort, tftpPort int) []Port {
	ports := []Port{
		{Proto: "udp", Number: 67, Use: "DHCP (full mode)"},
		{Proto: "udp", Number: tftpPort, Use: "TFTP"},
		{Proto: "udp", Number: 4011, Use: "PXE boot server (proxy mode)"},
		{Proto: "tcp", Number: httpPort, Use: "HTTP (scripts, kernels)"},
	}
	for i := range ports {
		p := &ports[i]
		addr := ":" + strconv.Itoa(p.Number)
		var err error
		if p.Proto == "udp" {
			var c net.PacketConn
			if c, err = net.ListenPacket("udp4", addr); err == nil {
				c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen("tcp4", addr); err == nil {
				l.Close()
			}
		}
		p.Free = err == nil
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			p.Err = "in use by another process"
		case errors.Is(err, syscall.EACCES):
			p.Err = "permission denied (run doctor as root to check it)"
		case err != nil:
			p.Err = err.Error()
		}
	}
	return ports
}

// InterfaceOf describes ifi: up or not, MTU, IPv4 addresses.
func InterfaceOf(ifi *net.Interface) Interface {
	out := Interface{Name: ifi.Name, Up: ifi.Flags&net.FlagUp != 0, MTU: ifi.MTU}
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.To4() == nil {
			continue
		}
		ip, _ := netip.AddrFromSlice(n.IP.To4())
		ones, _ := n.Mask.Size()
		out.Addrs = append(out.Addrs, netip.PrefixFrom(ip, ones))
	}
	return out
}
