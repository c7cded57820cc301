package dhcpwire

import (
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// FuzzParse feeds arbitrary bytes to the wire layer. Whatever Parse
// accepts must classify without panicking, and the reply built for it must
// be a valid BOOTREPLY that parses back with the request's xid and chaddr,
// is routed per RFC 2131 section 4.1 and has the bytes the library's own
// reply builder gives; the in-place option readers must agree with the
// library's decoders.
func FuzzParse(f *testing.F) {
	for _, mods := range [][]dhcpv4.Modifier{
		nil,
		{dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00007:UNDI:003010")), dhcpv4.WithOption(dhcpv4.OptClientArch(iana.EFI_X86_64))},
		{dhcpv4.WithUserClass("iPXE", false), dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1))},
		{dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionClientMachineIdentifier, make([]byte, 17)))},
	} {
		req, err := dhcpv4.NewDiscovery(otherMAC, mods...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(req.ToBytes())
	}
	sid := netip.MustParseAddr("192.0.2.1")
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := Parse(b)
		if err != nil {
			return
		}
		checkOptionReaders(t, req)
		checkNewReply(t, req, dhcpv4.MessageTypeOffer, sid)
		c := Classify(req)
		if c.RawUUID != nil && len(c.Facts.UUID) != 36 {
			t.Fatalf("uuid %q from option 97 % x", c.Facts.UUID, c.RawUUID)
		}
		reply := NewReply(req, dhcpv4.MessageTypeOffer, sid)
		back, err := dhcpv4.FromBytes(reply.ToBytes())
		if err != nil {
			t.Fatalf("reply does not parse: %v", err)
		}
		if back.OpCode != dhcpv4.OpcodeBootReply || back.TransactionID != req.TransactionID ||
			back.MessageType() != dhcpv4.MessageTypeOffer || !back.ServerIdentifier().Equal(sid.AsSlice()) {
			t.Fatalf("reply op %s xid %s type %s sid %s", back.OpCode, back.TransactionID, back.MessageType(), back.ServerIdentifier())
		}
		checkRoute(t, req, reply, Route(req, reply))
	})
}

// checkRoute asserts RFC 2131 section 4.1 on one delivery.
func checkRoute(t *testing.T, req, reply *dhcpv4.DHCPv4, d Delivery) {
	t.Helper()
	gi, relayed := AddrOf(req.GatewayIPAddr)
	ci, hasCI := AddrOf(req.ClientIPAddr)
	switch {
	case relayed:
		if d.IP != gi || d.Port != 67 || d.L2() {
			t.Fatalf("relayed request answered to %s:%d", d.IP, d.Port)
		}
	case d.Port != 68:
		t.Fatalf("reply to a client on port %d", d.Port)
	case hasCI && !d.Broadcast() && d.IP != ci:
		t.Fatalf("client with ciaddr %s answered at %s", ci, d.IP)
	case !d.Broadcast() && !hasCI && (len(req.ClientHWAddr) != 6 || !d.L2()):
		t.Fatalf("unicast without ciaddr must go to a 6-byte chaddr at layer 2: %+v", d)
	}
}
