package dhcpwire

import (
	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
)

// Watcher follows the boot decisions of a DHCP front end (full or proxy):
// Amend may add what it knows of the client to its facts before the
// decision (boot.Facts.RefusedIPXE), Decided sees the decision. mt is the
// request's message type. Both run on the request path and must be quick.
type Watcher interface {
	Amend(mt dhcpv4.MessageType, f *boot.Facts)
	Decided(mt dhcpv4.MessageType, f boot.Facts, d boot.Decision)
}

// Decide classifies req, lets w (may be nil) amend the facts, asks inv
// what the client boots and tells w.
func Decide(req *dhcpv4.DHCPv4, inv *boot.Inventory, srv boot.Server, w Watcher) (Client, boot.Decision) {
	c := Classify(req)
	if w == nil {
		return c, inv.Decide(c.Facts, srv)
	}
	mt := req.MessageType()
	w.Amend(mt, &c.Facts)
	d := inv.Decide(c.Facts, srv)
	w.Decided(mt, c.Facts, d)
	return c, d
}
