// Command responder is the DHCP benchmark's measure of its own limit: a
// stateless server that answers every DISCOVER with an OFFER and every
// REQUEST with an ACK at once, with an address made up from the
// transaction ID, sent to giaddr:67 (perfdhcp acts as a relay). It keeps no
// leases and does no checks, so whatever rate it sustains is the most the
// load generator and the network path can show.
package main

import (
	"encoding/binary"
	"flag"
	"log"
	"net"

	"golang.org/x/sys/unix"
)

const (
	fixedLen = 236 // BOOTP header up to the options
	cookie   = 0x63825363
)

func main() {
	listen := flag.String("listen", "0.0.0.0:67", "UDP address to read requests on")
	server := flag.String("server-id", "10.64.0.1", "server identifier to put in replies")
	flag.Parse()
	sid := net.ParseIP(*server).To4()
	conn, err := net.ListenUDP("udp4", udpAddr(*listen))
	if err != nil {
		log.Fatal(err)
	}
	// The same deep receive queue rackboot asks for on its sockets
	// (dhcpsock), so that a burst is not lost in the kernel before the
	// responder reads it: 4 MiB, past rmem_max as root.
	if err := deepen(conn, 4<<20); err != nil {
		log.Fatal(err)
	}
	in := make([]byte, 1500)
	out := make([]byte, 0, 400)
	for {
		n, from, err := conn.ReadFrom(in)
		if err != nil {
			log.Fatal(err)
		}
		reply, to, ok := answer(in[:n], out[:0], sid, from)
		if ok {
			conn.WriteTo(reply, to)
		}
	}
}

// answer builds the reply to one request; ok is false for anything that is
// not a DISCOVER or REQUEST.
func answer(req, out []byte, sid net.IP, from net.Addr) ([]byte, net.Addr, bool) {
	if len(req) < fixedLen+4 || req[0] != 1 || binary.BigEndian.Uint32(req[fixedLen:]) != cookie {
		return nil, nil, false
	}
	var mt byte
	for opts := req[fixedLen+4:]; len(opts) >= 2 && opts[0] != 255; {
		if opts[0] == 0 {
			opts = opts[1:]
			continue
		}
		l := int(opts[1])
		if len(opts) < 2+l {
			break
		}
		if opts[0] == 53 && l == 1 {
			mt = opts[2]
		}
		opts = opts[2+l:]
	}
	var reply byte
	switch mt {
	case 1:
		reply = 2 // OFFER
	case 3:
		reply = 5 // ACK
	default:
		return nil, nil, false
	}
	out = append(out, req[:fixedLen]...)
	out[0] = 2
	xid := req[4:8]
	copy(out[16:20], []byte{10, 65, xid[2], xid[3]}) // yiaddr, made up
	out = binary.BigEndian.AppendUint32(out, cookie)
	out = append(out, 53, 1, reply, 54, 4)
	out = append(out, sid...)
	out = append(out, 51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 240, 0, 0, 255)
	to := from
	if gi := net.IP(req[24:28]); !gi.Equal(net.IPv4zero) {
		to = &net.UDPAddr{IP: append(net.IP(nil), gi...), Port: 67}
	}
	return out, to, true
}

// udpAddr resolves the listen flag or exits.
func udpAddr(s string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp4", s)
	if err != nil {
		log.Fatal(err)
	}
	return a
}

// deepen sets the socket's receive buffer to n bytes (SO_RCVBUFFORCE).
func deepen(c *net.UDPConn, n int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
	}); err != nil {
		return err
	}
	return serr
}
