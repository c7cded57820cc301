package dhcpwire

import (
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// How a reply travels. These are the rules of RFC 2131 section 4.1, in the
// order it gives them; Route is the only place that applies them.
type sendKind int

const (
	// toRelay: unicast to giaddr, port 67 (the request was relayed).
	toRelay sendKind = iota
	// toBroadcast: 255.255.255.255 at ff:ff:ff:ff:ff:ff, port 68.
	toBroadcast
	// toClientIP: unicast to ciaddr, port 68 (the client has an address).
	toClientIP
	// toClientMAC: unicast to yiaddr at chaddr, port 68, through the raw
	// socket since the client has no address and answers no ARP yet.
	toClientMAC
	// toSource: back to the request's source address and port, for the
	// PXE boot server port 4011 (PXE 2.1 specification section 2.2.5),
	// whose clients have an address.
	toSource
)

// Delivery says where one reply goes.
type Delivery struct {
	kind sendKind
	IP   netip.Addr
	Port int
	MAC  net.HardwareAddr
}

// Broadcast reports whether the reply goes to everyone on the segment.
func (d Delivery) Broadcast() bool { return d.kind == toBroadcast }

// L2 reports whether the reply must be sent as a frame to MAC rather than
// through the host's IP stack.
func (d Delivery) L2() bool { return d.kind == toBroadcast || d.kind == toClientMAC }

// Route applies RFC 2131 section 4.1 to a request and its reply:
//   - giaddr set: unicast to giaddr:67;
//   - a NAK: broadcast;
//   - ciaddr set: unicast to ciaddr:68;
//   - broadcast bit set: broadcast;
//   - otherwise: unicast to yiaddr at chaddr.
func Route(req, reply *dhcpv4.DHCPv4) Delivery {
	if gi, ok := AddrOf(req.GatewayIPAddr); ok {
		return Delivery{kind: toRelay, IP: gi, Port: dhcpv4.ServerPort}
	}
	if MessageTypeOf(reply) == dhcpv4.MessageTypeNak {
		return broadcast()
	}
	if ci, ok := AddrOf(req.ClientIPAddr); ok {
		return Delivery{kind: toClientIP, IP: ci, Port: dhcpv4.ClientPort}
	}
	yi, ok := AddrOf(reply.YourIPAddr)
	if req.IsBroadcast() || !ok || len(req.ClientHWAddr) != 6 {
		return broadcast()
	}
	return Delivery{kind: toClientMAC, IP: yi, Port: dhcpv4.ClientPort, MAC: req.ClientHWAddr}
}

// ToSource is the delivery of a reply to a request that came from src.
func ToSource(src netip.AddrPort) Delivery {
	return Delivery{kind: toSource, IP: src.Addr(), Port: int(src.Port())}
}

func broadcast() Delivery {
	return Delivery{
		kind: toBroadcast, IP: netip.AddrFrom4([4]byte{255, 255, 255, 255}),
		Port: dhcpv4.ClientPort, MAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
}
