package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// ServerInfo is what replies tell clients about this server.
type ServerInfo struct {
	// Addr is the address clients use for TFTP and HTTP.
	Addr     netip.Addr
	HTTPPort int
}

// ScriptURL is the URL iPXE is sent to: the static entry script, which
// chains to the per-machine script with iPXE's own view of the machine.
func (s ServerInfo) ScriptURL() string {
	return fmt.Sprintf("http://%s/boot.ipxe", s.hostPort())
}

// AssetURL is the HTTP URL of a file the HTTP server serves under /assets/.
func (s ServerInfo) AssetURL(name string) string {
	return fmt.Sprintf("http://%s/assets/%s", s.hostPort(), name)
}

func (s ServerInfo) hostPort() string {
	return netip.AddrPortFrom(s.Addr, uint16(s.HTTPPort)).String()
}

// BootFields are the boot parts of a reply: BOOTP siaddr ("next server")
// and file (RFC 2131 section 2), plus options some firmware needs.
type BootFields struct {
	NextServer net.IP
	File       string
	Options    []dhcpv4.Option
}

// ErrNoBoot is wrapped by BootFor when a client gets an address only.
var ErrNoBoot = errors.New("no boot")

// BootFor says what a boot client loads next, the same way in full and
// proxy mode:
//   - iPXE gets the URL of its script, so it never loads iPXE again;
//   - PXE firmware gets next-server and the iPXE build for its architecture
//     (option 93), to fetch over TFTP;
//   - UEFI HTTP Boot firmware gets the iPXE build's URL and option 60
//     "HTTPClient" echoed, without which it ignores the offer.
//
// The error wraps ErrNoBoot when the client gets no boot fields: it is no
// boot client, the inventory gave it no profile, or no boot program fits its
// architecture.
func BootFor(c Client, d boot.Decision, s ServerInfo) (BootFields, error) {
	if c.Class == ClassPlain {
		return BootFields{}, fmt.Errorf("%w: not a PXE, HTTP Boot or iPXE client", ErrNoBoot)
	}
	if d.Profile == nil {
		return BootFields{}, fmt.Errorf("%w: %s", ErrNoBoot, d.Reason)
	}
	if usesPXELINUX(c, d) {
		return BootFields{NextServer: s.Addr.AsSlice(), File: PXELINUXProgram}, nil
	}
	switch c.Class {
	case ClassIPXE:
		return BootFields{File: s.ScriptURL()}, nil
	case ClassHTTP:
		return httpBootFields(c, s)
	}
	return pxeBootFields(c, s)
}

// PXELINUXProgram is the boot program of profiles with loader: pxelinux.
const PXELINUXProgram = "pxelinux.0"

// usesPXELINUX reports whether a BIOS client (PXE firmware, or an iPXE ROM,
// which can run it too) boots its profile through PXELINUX.
func usesPXELINUX(c Client, d boot.Decision) bool {
	bios := !c.Facts.HasArch || c.Facts.Arch == boot.ArchBIOS
	return d.Profile.Loader == config.LoaderPXELINUX && bios && (c.Class == ClassPXE || c.Class == ClassIPXE)
}

// pxeBootFields names the boot program to load over TFTP from next-server.
func pxeBootFields(c Client, s ServerInfo) (BootFields, error) {
	prog, err := boot.BootProgram(c.Facts.Arch)
	if err != nil {
		return BootFields{}, fmt.Errorf("%w: %v", ErrNoBoot, err)
	}
	return BootFields{NextServer: s.Addr.AsSlice(), File: prog}, nil
}

// httpBootFields gives UEFI HTTP Boot firmware (RFC 4578 arch 16, EFI
// x86-64 HTTP) the URL of the iPXE EFI build.
func httpBootFields(c Client, s ServerInfo) (BootFields, error) {
	if c.Facts.Arch != boot.ArchEFIx64HTTP {
		return BootFields{}, fmt.Errorf("%w: no HTTP boot program for arch %d", ErrNoBoot, c.Facts.Arch)
	}
	return BootFields{
		File:    s.AssetURL("ipxe.efi"),
		Options: []dhcpv4.Option{dhcpv4.OptClassIdentifier("HTTPClient")},
	}, nil
}

// apply writes the boot fields into a reply.
func (b BootFields) apply(reply *dhcpv4.DHCPv4) {
	if b.NextServer != nil {
		reply.ServerIPAddr = b.NextServer
	}
	reply.BootFileName = b.File
	for _, o := range b.Options {
		reply.UpdateOption(o)
	}
}
