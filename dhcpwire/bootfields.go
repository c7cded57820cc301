package dhcpwire

import (
	"net"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
)

// BootFields are the boot parts of a reply: BOOTP siaddr ("next server")
// and file (RFC 2131 section 2), plus options some firmware needs.
type BootFields struct {
	NextServer net.IP
	File       string
	Options    []dhcpv4.Option
}

// FieldsFor translates a decision's next step into reply fields, the same
// way in full and proxy mode: a TFTP program gets next-server and the file
// name; an HTTP Boot program its URL and option 60 "HTTPClient" echoed
// (UEFI ignores the offer without it); an iPXE script its URL. ok is false
// when the step is StepNone.
func FieldsFor(n boot.Next, s boot.Server) (BootFields, bool) {
	switch n.Step {
	case boot.StepTFTP:
		return BootFields{NextServer: s.Addr.AsSlice(), File: n.Program}, true
	case boot.StepHTTPProgram:
		return BootFields{File: n.URL, Options: []dhcpv4.Option{dhcpv4.OptClassIdentifier("HTTPClient")}}, true
	case boot.StepScript:
		return BootFields{File: n.URL}, true
	}
	return BootFields{}, false
}

// Apply writes the boot fields into a reply.
func (b BootFields) Apply(reply *dhcpv4.DHCPv4) {
	if b.NextServer != nil {
		reply.ServerIPAddr = b.NextServer
	}
	reply.BootFileName = b.File
	for _, o := range b.Options {
		reply.UpdateOption(o)
	}
}

// pxeDiscoveryControl is option 43 with PXE_DISCOVERY_CONTROL (sub-option
// 6) = 8: "boot from the file named in this offer, skip boot server
// discovery" (PXE 2.1 specification, table 2-1), then the end marker.
var pxeDiscoveryControl = []byte{6, 1, 8, 255}

// ForProxy adds what PXE firmware needs to merge a proxyDHCP reply with
// the real DHCP server's (PXE 2.1 specification section 2.2.5): option 60
// "PXEClient" (or "HTTPClient", already set for HTTP Boot), option 97 echoed
// when the client sent it, and for BIOS PXE ROMs and iPXE option 43 telling
// them to use this reply's boot file without boot server discovery. UEFI
// PXE gets no option 43, so it sends its REQUEST to port 4011, which the
// proxy answers with the same fields.
func (b BootFields) ForProxy(c Client) BootFields {
	out := b
	out.Options = append([]dhcpv4.Option(nil), b.Options...)
	class := c.Facts.Class
	if class != boot.ClassHTTP {
		out.Options = append(out.Options, dhcpv4.OptClassIdentifier("PXEClient"))
	}
	if c.RawUUID != nil {
		out.Options = append(out.Options, dhcpv4.OptGeneric(dhcpv4.OptionClientMachineIdentifier, c.RawUUID))
	}
	if class == boot.ClassIPXE || (class == boot.ClassPXE && !c.Facts.EFI()) {
		out.Options = append(out.Options, dhcpv4.OptGeneric(dhcpv4.OptionVendorSpecificInformation, pxeDiscoveryControl))
	}
	return out
}
