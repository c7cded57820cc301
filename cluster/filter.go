package cluster

import (
	"sync/atomic"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/dhcpwire"
)

// Owner says whether this instance answers a client (Membership is one).
type Owner interface {
	OwnsClient(clientID, chaddr []byte) bool
}

// Filter passes to next only the requests of clients this instance owns
// (RFC 3074 section 5: a server answers the clients of its buckets), and
// counts the others in skipped. DHCPRELEASE and DHCPDECLINE always pass:
// they end or quarantine a lease in the shared store, whichever member
// gets them. Requests without a client identifier or chaddr pass too, so
// that they are answered (or refused) once rather than never.
func Filter(next dhcpwire.Responder, o Owner, skipped *atomic.Uint64) dhcpwire.Responder {
	return filter{next: next, o: o, skipped: skipped}
}

type filter struct {
	next    dhcpwire.Responder
	o       Owner
	skipped *atomic.Uint64
}

func (f filter) Respond(req *dhcpv4.DHCPv4, send func(*dhcpv4.DHCPv4)) {
	if f.mine(req) {
		f.next.Respond(req, send)
		return
	}
	f.skipped.Add(1)
}

func (f filter) mine(req *dhcpv4.DHCPv4) bool {
	switch dhcpwire.MessageTypeOf(req) {
	case dhcpv4.MessageTypeRelease, dhcpv4.MessageTypeDecline:
		return true
	}
	id := req.Options.Get(dhcpv4.OptionClientIdentifier)
	if len(id) == 0 && len(req.ClientHWAddr) == 0 {
		return true
	}
	return f.o.OwnsClient(id, req.ClientHWAddr)
}
