package dhcpwire

import (
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// NewReply builds the reply to req of type mt from server sid, the one
// builder full and proxy mode share: the fields RFC 2131 section 4.3.1
// table 3 copies from the request (xid, flags, giaddr, chaddr), option 82
// echoed once (RFC 3046 section 2.2), option 61 echoed (RFC 6842), the
// message type and the server identifier. It is
// dhcpv4.NewReplyFromRequest without the random transaction ID it would
// draw and then overwrite, with the fields set directly rather than
// through modifiers (a closure each, on every reply).
func NewReply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType, sid netip.Addr) *dhcpv4.DHCPv4 {
	op := dhcpv4.OpcodeBootRequest
	if req.OpCode == dhcpv4.OpcodeBootRequest {
		op = dhcpv4.OpcodeBootReply
	}
	r := &dhcpv4.DHCPv4{
		OpCode: op, HWType: req.HWType, TransactionID: req.TransactionID, Flags: req.Flags,
		ClientHWAddr: req.ClientHWAddr,
		ClientIPAddr: net.IPv4zero, YourIPAddr: net.IPv4zero, ServerIPAddr: net.IPv4zero, GatewayIPAddr: req.GatewayIPAddr,
		Options: make(dhcpv4.Options, 12),
	}
	copyOption(r, req, dhcpv4.OptionRelayAgentInformation)
	copyOption(r, req, dhcpv4.OptionClientIdentifier)
	r.Options[dhcpv4.OptionDHCPMessageType.Code()] = mt.ToBytes()
	r.Options[dhcpv4.OptionServerIdentifier.Code()] = dhcpv4.IP(sid.AsSlice()).ToBytes()
	return r
}

// copyOption echoes option code of req in r when req has it
// (dhcpv4.WithOptionCopied without its closure).
func copyOption(r, req *dhcpv4.DHCPv4, code dhcpv4.OptionCode) {
	if v := req.Options.Get(code); v != nil {
		r.Options[code.Code()] = v
	}
}
