package dhcp

import (
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/events"
)

// emit tells the event sink about one exchange: the request, the reply
// type ("" when none was sent), the address given, the boot file and the
// decision, or why nothing was given. It does nothing without a sink.
func (h *Handler) emit(req *dhcpv4.DHCPv4, c dhcpwire.Client, reply string, ip netip.Addr, d *boot.Decision, bootFile, why string) {
	if h.events == nil {
		return
	}
	ev := events.Event{
		Time: h.now(), MAC: events.MACOf(req.ClientHWAddr), Kind: events.KindDHCP, Addr: ip,
		Message: dhcpwire.MessageTypeOf(req).String(), Reply: reply, Class: c.Facts.Class.String(),
		Arch: uint16(c.Facts.Arch), HasArch: c.Facts.HasArch, Hostname: c.Facts.Hostname,
		BootFile: bootFile, Reason: why,
	}
	if d != nil && d.Profile != nil {
		ev.Profile, ev.Via, ev.Group = d.Profile.Name, d.Source.String(), d.Group
	}
	if d != nil && d.Machine != nil && d.Machine.Hostname != "" {
		ev.Hostname = d.Machine.Hostname
	}
	if d != nil && bootFile != "" {
		ev.Loader = d.Next.Loader
	}
	if why == "" && d != nil && bootFile == "" {
		ev.Reason = d.Next.Why
	}
	h.events.Emit(ev)
}

// emitIgnored reports a request that got no answer, and why.
func (h *Handler) emitIgnored(req *dhcpv4.DHCPv4, why string) {
	if h.events != nil {
		h.emit(req, dhcpwire.Classify(req), "", netip.Addr{}, nil, "", why)
	}
}
