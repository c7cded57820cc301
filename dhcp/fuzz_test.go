package dhcp

import (
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/leases"
)

// fuzzSeeds are requests of every state the handler knows.
func fuzzSeeds(f *testing.F) [][]byte {
	var out [][]byte
	sid := dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverAddr.AsSlice()))
	want := dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 0, 2, 100)))
	for _, mods := range [][]dhcpv4.Modifier{nil, ipxeMods(), pxe(iana.EFI_X86_64), {dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1))}} {
		for _, mt := range []struct {
			t    dhcpv4.MessageType
			mods []dhcpv4.Modifier
		}{
			{dhcpv4.MessageTypeDiscover, nil},
			{dhcpv4.MessageTypeRequest, []dhcpv4.Modifier{sid, want}},
			{dhcpv4.MessageTypeRequest, []dhcpv4.Modifier{want}},
			{dhcpv4.MessageTypeInform, []dhcpv4.Modifier{dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 7))}},
			{dhcpv4.MessageTypeRelease, []dhcpv4.Modifier{dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 100))}},
			{dhcpv4.MessageTypeDecline, []dhcpv4.Modifier{want}},
		} {
			req, err := dhcpv4.NewDiscovery(otherMAC, append(append([]dhcpv4.Modifier{dhcpv4.WithMessageType(mt.t)}, mods...), mt.mods...)...)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, req.ToBytes())
		}
	}
	return out
}

// FuzzHandle feeds arbitrary bytes through the wire parser and the full
// handler. A reply must be a valid BOOTREPLY for the request (its xid and
// chaddr, an address inside a configured subnet or none), and a request
// that got no reply must leave no lease or offer behind.
func FuzzHandle(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := dhcpwire.Parse(b)
		if err != nil {
			return
		}
		h := testHandler(t, "demo", nil)
		r := h.Handle(req)
		if r == nil {
			checkNoState(t, h, req)
			return
		}
		back, err := dhcpv4.FromBytes(r.ToBytes())
		if err != nil {
			t.Fatalf("reply does not parse: %v", err)
		}
		if back.OpCode != dhcpv4.OpcodeBootReply || back.TransactionID != req.TransactionID || back.ClientHWAddr.String() != req.ClientHWAddr.String() {
			t.Fatalf("reply %s does not answer request %s", back.Summary(), req.Summary())
		}
		if ip, ok := dhcpwire.AddrOf(back.YourIPAddr); ok && h.subnetOf(ip) == nil {
			t.Fatalf("offered %s, outside every subnet", ip)
		}
	})
}

// checkNoState asserts that an unanswered request changed nothing.
func checkNoState(t *testing.T, h *Handler, req *dhcpv4.DHCPv4) {
	t.Helper()
	key := leases.ClientKey(req.Options.Get(dhcpv4.OptionClientIdentifier), req.ClientHWAddr)
	for _, sn := range h.subnets {
		if sn.pool.Has(key) && req.MessageType() != dhcpv4.MessageTypeRelease {
			t.Fatalf("unanswered %s left an offer or lease for %s", req.MessageType(), req.ClientHWAddr)
		}
	}
}

// subnetOf is the configured subnet holding ip, or nil.
func (h *Handler) subnetOf(ip netip.Addr) *subnet {
	for _, sn := range h.subnets {
		if sn.cfg.Prefix.Contains(ip) {
			return sn
		}
	}
	return nil
}
