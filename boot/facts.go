package boot

import (
	"net"
	"net/netip"
)

// Class is the kind of boot client that sent a request, as its protocol
// front end recognised it.
type Class int

// Client classes.
const (
	// ClassPlain does not network boot (a DHCP request without option 60
	// PXEClient/HTTPClient that is not iPXE): it gets an address only.
	ClassPlain Class = iota
	// ClassPXE is PXE firmware (option 60 "PXEClient…"): it loads a boot
	// program over TFTP from next-server.
	ClassPXE
	// ClassHTTP is UEFI HTTP Boot firmware (option 60 "HTTPClient…"): it
	// loads a boot program from a URL.
	ClassHTTP
	// ClassIPXE is iPXE (user class "iPXE" or option 175, or an HTTP
	// request for a script): it gets the URL of its script.
	ClassIPXE
	// ClassPXELINUX is PXELINUX asking for a pxelinux.cfg/ file over TFTP.
	ClassPXELINUX
	// ClassGRUB is GRUB asking for a grub.cfg (over TFTP, or at /grub).
	ClassGRUB
)

func (c Class) String() string {
	switch c {
	case ClassPlain:
		return "plain"
	case ClassPXE:
		return "pxe"
	case ClassHTTP:
		return "httpboot"
	case ClassIPXE:
		return "ipxe"
	case ClassPXELINUX:
		return "pxelinux"
	case ClassGRUB:
		return "grub"
	}
	return "unknown"
}

// Facts are what a client told us about itself, gathered by a protocol
// front end (DHCP options, a TFTP file name, an HTTP query). Empty fields
// are unknown.
type Facts struct {
	MAC net.HardwareAddr
	// UUID is the client's SMBIOS UUID (DHCP option 97) in lower-case
	// 8-4-4-4-12 form.
	UUID     string
	Hostname string
	// Arch is the RFC 4578 client system architecture (DHCP option 93);
	// valid only when HasArch is true.
	Arch    Arch
	HasArch bool
	Class   Class
	// VendorClass is DHCP option 60 as sent.
	VendorClass string
	// Addr is the client's own IP address when known (DHCP ciaddr, the
	// source of a TFTP or HTTP request); Relay is the relay agent (giaddr).
	Addr, Relay netip.Addr
	// Labels are extra key/value facts (an HTTP query's other keys).
	Labels map[string]string
	// RefusedIPXE says the client's firmware refused iPXE: it was handed
	// an iPXE build moments ago and asks again without having fetched
	// its script (the front end's timeline tells; see loader auto).
	RefusedIPXE bool
}

// PlatformLabel is the label (an iPXE query key) by which iPXE says which
// firmware it runs on: "efi" or "pcbios".
const PlatformLabel = "platform"

// EFI reports whether the client runs UEFI firmware: its architecture is
// a UEFI one (RFC 4578 section 2.1), it is HTTP Boot firmware (UEFI only),
// or iPXE said platform=efi. iPXE's EFI builds need initrd= on the kernel
// command line, and UEFI PXE ROMs get no PXE discovery control.
func (f Facts) EFI() bool {
	switch {
	case f.HasArch:
		return archTable[f.Arch].efi
	case f.Class == ClassHTTP:
		return true
	}
	return f.Labels[PlatformLabel] == "efi"
}
