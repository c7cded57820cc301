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
	hc := testHandlerConfig(b, testYAML("demo", `
  - cidr: 10.64.0.0/12
    range: 10.65.0.1-10.66.255.254
    lease_time: 1h
  - cidr: 192.0.2.0/24
`))
	hc.Server.Addr = netip.MustParseAddr("10.64.0.1")
	h := mustHandler(b, hc)
	giaddr := net.IPv4(10, 64, 0, 2)
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
