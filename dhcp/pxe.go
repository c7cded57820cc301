package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/pxelinux"
)

// ServerInfo is what replies tell clients about this server.
type ServerInfo struct {
	// Addr is the address clients use for TFTP and HTTP.
	Addr     netip.Addr
	HTTPPort int
	// Has reports whether a boot program can be served; nil means every
	// program can.
	Has func(name string) bool
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
//     (option 93; a ROM that sends none is taken for BIOS), to fetch over
//     TFTP;
//   - UEFI HTTP Boot firmware gets the URL of the iPXE build and option 60
//     "HTTPClient" echoed, without which it ignores the offer;
//   - a profile with loader: pxelinux sends BIOS clients to pxelinux.0.
//
// The error wraps ErrNoBoot when the client gets no boot fields: it is no
// boot client, the inventory gave it no profile, its boot_method asks for
// the firmware's other method, or no boot program fits its architecture.
func BootFor(c Client, d boot.Decision, s ServerInfo) (BootFields, error) {
	if c.Class == ClassPlain {
		return BootFields{}, fmt.Errorf("%w: not a PXE, HTTP Boot or iPXE client", ErrNoBoot)
	}
	if d.Profile == nil {
		return BootFields{}, fmt.Errorf("%w: %s", ErrNoBoot, d.Reason)
	}
	if err := methodAllows(c, d); err != nil {
		return BootFields{}, err
	}
	if usesPXELINUX(c, d) {
		return BootFields{NextServer: s.Addr.AsSlice(), File: PXELINUXProgram(d.Profile)}, nil
	}
	if c.Class == ClassIPXE {
		return BootFields{File: s.ScriptURL()}, nil
	}
	p, err := programFor(c, s)
	if err != nil {
		return BootFields{}, err
	}
	if c.Class == ClassHTTP {
		return BootFields{
			File:    s.AssetURL(p.Name),
			Options: []dhcpv4.Option{dhcpv4.OptClassIdentifier("HTTPClient")},
		}, nil
	}
	return BootFields{NextServer: s.Addr.AsSlice(), File: p.Name}, nil
}

// PXELINUXProgram is the boot program of a profile with loader: pxelinux:
// pxelinux.0, or lpxelinux.0 when its kernel or an initrd is an http URL.
func PXELINUXProgram(p *config.Profile) string { return pxelinux.ProgramFor(p) }

// usesPXELINUX reports whether a BIOS client (PXE firmware, or an iPXE ROM,
// which can run it too) boots its profile through PXELINUX.
func usesPXELINUX(c Client, d boot.Decision) bool {
	bios := !c.Facts.HasArch || c.Facts.Arch == boot.ArchBIOS
	return d.Profile.Loader == config.LoaderPXELINUX && bios && (c.Class == ClassPXE || c.Class == ClassIPXE)
}

// methodAllows applies boot_method (the machine's, else the profile's) to
// firmware that tries both PXE and HTTP Boot, such as OVMF: the request of
// the other method gets no boot fields, so the firmware moves on.
func methodAllows(c Client, d boot.Decision) error {
	m := d.Profile.BootMethod
	if d.Machine != nil && d.Machine.BootMethod != "" {
		m = d.Machine.BootMethod
	}
	switch {
	case m == config.BootMethodHTTP && c.Class == ClassPXE:
		return fmt.Errorf("%w: boot_method is http; leaving the PXE request for the firmware's HTTP Boot attempt", ErrNoBoot)
	case m == config.BootMethodPXE && c.Class == ClassHTTP:
		return fmt.Errorf("%w: boot_method is pxe; leaving the HTTP Boot request for the firmware's PXE attempt", ErrNoBoot)
	}
	return nil
}

// programFor picks the boot program for the client's architecture and
// checks that it can be served.
func programFor(c Client, s ServerInfo) (boot.Program, error) {
	arch := c.Facts.Arch
	if !c.Facts.HasArch && c.Class == ClassHTTP {
		arch = boot.ArchEFIx64HTTP
	}
	p, err := boot.ProgramFor(arch)
	if err != nil {
		return boot.Program{}, fmt.Errorf("%w: %v", ErrNoBoot, err)
	}
	if s.Has != nil && !s.Has(p.Name) {
		return boot.Program{}, fmt.Errorf("%w: boot program %s for arch %s is not available (make assets, or put it in the assets folder)", ErrNoBoot, p.Name, arch)
	}
	return p, nil
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
	if c.Class != ClassHTTP {
		out.Options = append(out.Options, dhcpv4.OptClassIdentifier("PXEClient"))
	}
	if c.RawUUID != nil {
		out.Options = append(out.Options, dhcpv4.OptGeneric(optClientUUID, c.RawUUID))
	}
	efi := c.Facts.HasArch && c.Facts.Arch.IsEFI()
	if c.Class == ClassIPXE || (c.Class == ClassPXE && !efi) {
		out.Options = append(out.Options, dhcpv4.OptGeneric(optVendorSpecific, pxeDiscoveryControl))
	}
	return out
}

// Apply writes the boot fields into a reply.
func (b BootFields) Apply(reply *dhcpv4.DHCPv4) { b.apply(reply) }
