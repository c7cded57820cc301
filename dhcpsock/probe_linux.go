//go:build linux

package dhcpsock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/rackboot/rackboot/dhcpwire"
)

// NetProber probes with ARP requests on one interface (RFC 5227 probes:
// sender address 0.0.0.0) and ICMP echo through a raw ICMP socket. One
// goroutine per socket reads the answers and wakes the probes waiting for
// them, so any number of probes run at once on two sockets.
type NetProber struct {
	ifi  *net.Interface
	arp  *packet.Conn
	icmp *icmp.PacketConn // nil when it could not be opened

	mu      sync.Mutex
	waiting map[netip.Addr]*probeWait
	seq     uint16
}

type probeWait struct {
	answered chan struct{}
	n        int
}

// NewNetProber opens the ARP socket on ifi and, when it can, the ICMP
// socket; relayed probes report "not in use" without the latter.
func NewNetProber(ifi *net.Interface) (*NetProber, error) {
	arp, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ARP, nil)
	if err != nil {
		return nil, fmt.Errorf("arp socket on %s: %w", ifi.Name, err)
	}
	p := &NetProber{ifi: ifi, arp: arp, waiting: map[netip.Addr]*probeWait{}}
	if c, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0"); err == nil {
		p.icmp = c
		go p.readICMP()
	}
	go p.readARP()
	return p, nil
}

// ICMP reports whether relayed subnets can be probed.
func (p *NetProber) ICMP() bool { return p.icmp != nil }

// Close stops the readers.
func (p *NetProber) Close() error {
	var err error
	if p.icmp != nil {
		err = p.icmp.Close()
	}
	return errors.Join(err, p.arp.Close())
}

// InUse implements Prober.
func (p *NetProber) InUse(ip netip.Addr, relayed bool, timeout time.Duration) bool {
	if relayed && p.icmp == nil {
		return false
	}
	w, seq := p.wait(ip)
	defer p.unwait(ip, w)
	var err error
	if relayed {
		err = p.sendEcho(ip, seq)
	} else {
		err = p.sendARP(ip)
	}
	if err != nil {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.answered:
		return true
	case <-t.C:
		return false
	}
}

func (p *NetProber) wait(ip netip.Addr) (*probeWait, uint16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	w := p.waiting[ip]
	if w == nil {
		w = &probeWait{answered: make(chan struct{})}
		p.waiting[ip] = w
	}
	w.n++
	return w, p.seq
}

func (p *NetProber) unwait(ip netip.Addr, w *probeWait) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.n--; w.n == 0 && p.waiting[ip] == w {
		delete(p.waiting, ip)
	}
}

// answered wakes the probes of ip.
func (p *NetProber) answered(ip netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.waiting[ip]; w != nil {
		delete(p.waiting, ip)
		close(w.answered)
	}
}

// sendARP broadcasts an ARP probe for ip (RFC 5227 section 2.1.1).
func (p *NetProber) sendARP(ip netip.Addr) error {
	_, err := p.arp.WriteTo(arpProbe(p.ifi.HardwareAddr, ip), &packet.Addr{HardwareAddr: broadcastMAC})
	return err
}

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// arpProbe builds an Ethernet frame carrying an ARP request for ip from
// sender address 0.0.0.0.
func arpProbe(src net.HardwareAddr, ip netip.Addr) []byte {
	b := make([]byte, 14+28)
	copy(b[0:6], broadcastMAC)
	copy(b[6:12], src)
	binary.BigEndian.PutUint16(b[12:14], unix.ETH_P_ARP)
	a := b[14:]
	binary.BigEndian.PutUint16(a[0:2], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:4], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:8], 1) // request
	copy(a[8:14], src)
	t := ip.As4()
	copy(a[24:28], t[:])
	return b
}

// arpSender returns the sender protocol address of an ARP frame.
func arpSender(frame []byte) (netip.Addr, bool) {
	if len(frame) < 14+28 || binary.BigEndian.Uint16(frame[12:14]) != unix.ETH_P_ARP {
		return netip.Addr{}, false
	}
	a := frame[14:]
	if binary.BigEndian.Uint16(a[2:4]) != 0x0800 || a[4] != 6 || a[5] != 4 {
		return netip.Addr{}, false
	}
	ip := netip.AddrFrom4([4]byte(a[14:18]))
	return ip, !ip.IsUnspecified()
}

func (p *NetProber) readARP() {
	b := make([]byte, 1500)
	for {
		n, _, err := p.arp.ReadFrom(b)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if ip, ok := arpSender(b[:n]); ok {
			p.answered(ip)
		}
	}
}

// sendEcho sends one ICMP echo request to ip.
func (p *NetProber) sendEcho(ip netip.Addr, seq uint16) error {
	m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{
		ID: os.Getpid() & 0xffff, Seq: int(seq), Data: []byte("rackboot-probe"),
	}}
	b, err := m.Marshal(nil)
	if err != nil {
		return err
	}
	_, err = p.icmp.WriteTo(b, &net.IPAddr{IP: ip.AsSlice()})
	return err
}

func (p *NetProber) readICMP() {
	b := make([]byte, 1500)
	for {
		n, from, err := p.icmp.ReadFrom(b)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, err := icmp.ParseMessage(1, b[:n])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		if ia, ok := from.(*net.IPAddr); ok {
			if ip, ok := dhcpwire.AddrOf(ia.IP); ok {
				p.answered(ip)
			}
		}
	}
}
