package dhcp

import (
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/dhcpwire"
)

// BenchmarkDORA is one relayed DISCOVER/REQUEST exchange from a new
// client through parsing, the handler and serializing, on the in-memory
// store: for CPU and allocation profiles of the request path (throughput
// figures come from bench/dhcp, never from here).
func BenchmarkDORA(b *testing.B) {
	h, giaddr := benchHandler(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		hw := net.HardwareAddr{2, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		disc := request(b, dhcpv4.MessageTypeDiscover, hw, dhcpv4.WithGatewayIP(giaddr)).ToBytes()
		offer := roundTrip(b, h, disc)
		req, _ := dhcpv4.NewRequestFromOffer(offer, dhcpv4.WithGatewayIP(giaddr))
		if ack := roundTrip(b, h, req.ToBytes()); ack.MessageType() != dhcpv4.MessageTypeAck {
			b.Fatalf("got %s", ack.MessageType())
		}
	}
}

// benchHandler is the handler the benchmarks answer with, on the in-memory
// store, and the relay address its clients come through.
func benchHandler(b *testing.B) (*Handler, net.IP) {
	hc := testHandlerConfig(b, testYAML("demo", `
  - cidr: 10.64.0.0/12
    range: 10.65.0.1-10.66.255.254
    lease_time: 1h
  - cidr: 192.0.2.0/24
`))
	hc.Server.Addr = netip.MustParseAddr("10.64.0.1")
	h := mustHandler(b, hc)
	giaddr := net.IPv4(10, 64, 0, 2)
	return h, giaddr
}

func roundTrip(b *testing.B, h *Handler, wire []byte) *dhcpv4.DHCPv4 {
	req, err := dhcpwire.Parse(wire)
	if err != nil {
		b.Fatal(err)
	}
	var out []byte
	h.Respond(req, func(r *dhcpv4.DHCPv4) { out = r.ToBytes() })
	r, err := dhcpv4.FromBytes(out)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkDORAServer is BenchmarkDORA's exchange measured on the server
// side only: the request bytes are built beforehand and each iteration
// patches a new client's chaddr (and the offered address into the
// REQUEST's option 50), so what is counted is dhcpwire.Parse,
// Handler.Respond and the reply's ToBytes.
func BenchmarkDORAServer(b *testing.B) {
	h, giaddr := benchHandler(b)
	first := net.HardwareAddr{2, 1, 0, 0, 0, 0}
	disc := request(b, dhcpv4.MessageTypeDiscover, first, dhcpv4.WithGatewayIP(giaddr)).ToBytes()
	reqMsg, err := dhcpv4.NewRequestFromOffer(roundTrip(b, h, disc), dhcpv4.WithGatewayIP(giaddr))
	if err != nil {
		b.Fatal(err)
	}
	req := reqMsg.ToBytes()
	opt50 := optionAt(b, req, dhcpv4.OptionRequestedIPAddress)
	var out []byte
	var yiaddr net.IP
	send := func(r *dhcpv4.DHCPv4) { out, yiaddr = r.ToBytes(), r.YourIPAddr }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		hw := [6]byte{2, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		copy(disc[28:34], hw[:])
		copy(req[28:34], hw[:])
		out = nil
		p, err := dhcpwire.Parse(disc)
		if err != nil {
			b.Fatal(err)
		}
		h.Respond(p, send)
		if out == nil {
			b.Fatal("no OFFER")
		}
		copy(req[opt50:opt50+4], yiaddr.To4())
		out = nil
		if p, err = dhcpwire.Parse(req); err != nil {
			b.Fatal(err)
		}
		h.Respond(p, send)
		if out == nil || out[optionAt(b, out, dhcpv4.OptionDHCPMessageType)] != byte(dhcpv4.MessageTypeAck) {
			b.Fatal("no ACK")
		}
	}
}

// optionAt is the offset of option code's value in a packet's bytes.
func optionAt(b *testing.B, pkt []byte, code dhcpv4.OptionCode) int {
	for i := 240; i+1 < len(pkt) && pkt[i] != 255; {
		if pkt[i] == 0 {
			i++
			continue
		}
		if pkt[i] == code.Code() {
			return i + 2
		}
		i += 2 + int(pkt[i+1])
	}
	b.Fatalf("no option %s", code)
	return 0
}
