package dhcpwire

import (
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// NewReply builds the reply to req of type mt from server sid, the one
// builder full and proxy mode share: the fields RFC 2131 section 4.3.1
// table 3 copies from the request (xid, flags, giaddr, chaddr), option 82
// echoed once (RFC 3046 section 2.2), option 61 echoed (RFC 6842), the
// message type and the server identifier. It is
// dhcpv4.NewReplyFromRequest without the random transaction ID it would
// draw and then overwrite.
func NewReply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType, sid netip.Addr) *dhcpv4.DHCPv4 {
	r := &dhcpv4.DHCPv4{
		OpCode: dhcpv4.OpcodeBootRequest, HWType: iana.HWTypeEthernet,
		ClientHWAddr: make(net.HardwareAddr, 6),
		ClientIPAddr: net.IPv4zero, YourIPAddr: net.IPv4zero, ServerIPAddr: net.IPv4zero, GatewayIPAddr: net.IPv4zero,
		Options: make(dhcpv4.Options, 12),
	}
	for _, m := range []dhcpv4.Modifier{
		dhcpv4.WithReply(req),
		dhcpv4.WithGatewayIP(req.GatewayIPAddr),
		dhcpv4.WithOptionCopied(req, dhcpv4.OptionRelayAgentInformation),
		dhcpv4.WithOptionCopied(req, dhcpv4.OptionClientIdentifier),
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(sid.AsSlice())),
	} {
		m(r)
	}
	return r
}
