package dhcpwire

import (
	"net"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
)

// Refusals tells whether a client's firmware refused iPXE: it was handed
// an iPXE build and asks again as firmware, never having run it (UEFI
// Secure Boot refuses unsigned iPXE). Package timeline answers it from
// each machine's events. discover says the request is a DISCOVER, the
// request by which such firmware asks again. It runs on the request path
// and must be quick.
type Refusals interface {
	RefusedIPXE(mac net.HardwareAddr, discover bool) bool
}

// Decide classifies req, asks r (may be nil) whether a firmware client
// refused iPXE (boot.Facts.RefusedIPXE, which loader auto acts on), and
// asks inv what the client boots.
func Decide(req *dhcpv4.DHCPv4, inv *boot.Inventory, srv boot.Server, r Refusals) (Client, boot.Decision) {
	c := Classify(req)
	if r != nil && c.Facts.MAC != nil && (c.Facts.Class == boot.ClassPXE || c.Facts.Class == boot.ClassHTTP) {
		c.Facts.RefusedIPXE = r.RefusedIPXE(c.Facts.MAC, MessageTypeOf(req) == dhcpv4.MessageTypeDiscover)
	}
	return c, inv.Decide(c.Facts, srv)
}
