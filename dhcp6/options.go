package dhcp6

import (
	"fmt"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// Boot is the boot part of a reply: what boot.Decide chose, as DHCPv6
// options (RFC 5970).
type Boot struct {
	// URL is option 59, the boot file URL; "" means no boot.
	URL string
	// Params is option 60; empty sends none (no boot program rackboot
	// hands out takes parameters).
	Params []string
	// VendorClass, when set, is sent as option 16 under enterprise 343:
	// "HTTPClient" for HTTP Boot (OVMF cancels without it), "PXEClient"
	// in proxy replies (OVMF takes a PXEClient offer without an address
	// for a proxy offer).
	VendorClass string
	// Why says why there is no boot (URL == "").
	Why string
}

// BootFor translates a decision's next step into options. s must carry
// the server's IPv6 address. PXELINUX has no IPv6 build, so a PXELINUX
// step is no boot over IPv6.
func BootFor(next boot.Next, class boot.Class, s boot.Server) Boot {
	switch {
	case next.Step == boot.StepNone:
		return Boot{Why: next.Why}
	case next.Loader == config.LoaderPXELINUX:
		return Boot{Why: "PXELINUX has no IPv6 support; the profile's loader: pxelinux boots over IPv4 only"}
	case next.Step == boot.StepTFTP:
		return Boot{URL: TFTPURL(s.Addr, next.Program)}
	case next.Step == boot.StepHTTPProgram:
		return Boot{URL: next.URL, VendorClass: "HTTPClient"}
	case next.Step == boot.StepScript:
		return Boot{URL: next.URL}
	}
	return Boot{Why: fmt.Sprintf("step %s has no DHCPv6 form", next.Step)}
}

// TFTPURL is tftp://[addr]/name (RFC 5970 section 3.1, RFC 3617).
func TFTPURL(addr netip.Addr, name string) string {
	host := addr.String()
	if addr.Is6() {
		host = "[" + host + "]"
	}
	return "tftp://" + host + "/" + name
}

// ForProxy is b as a proxy sends it: PXE firmware gets PXEClient in
// option 16, so OVMF takes the offer for a proxy offer.
func (b Boot) ForProxy(class boot.Class) Boot {
	if b.URL != "" && b.VendorClass == "" && class == boot.ClassPXE {
		b.VendorClass = "PXEClient"
	}
	return b
}

// options are the reply options b stands for.
func (b Boot) options() []dhcpv6.Option {
	if b.URL == "" {
		return nil
	}
	opts := []dhcpv6.Option{dhcpv6.OptBootFileURL(b.URL)}
	if len(b.Params) > 0 {
		opts = append(opts, dhcpv6.OptBootFileParam(b.Params...))
	}
	if b.VendorClass != "" {
		// Data at offset 6 of the option: enterprise (4), length (2).
		opts = append(opts, &dhcpv6.OptVendorClass{EnterpriseNumber: EnterprisePXE, Data: [][]byte{[]byte(b.VendorClass)}})
	}
	return opts
}
