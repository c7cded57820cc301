// Package dhcpwire is the DHCPv4 wire layer that full DHCP and proxyDHCP
// share: it turns a request into boot facts, a boot decision into reply
// fields, builds replies, routes them per RFC 2131 section 4.1, and runs the
// bounded receive loop that answers them. It opens no sockets.
package dhcpwire

import (
	"encoding/hex"
	"net"
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
)

// Client is what a DHCP request tells about its sender.
type Client struct {
	Facts boot.Facts
	// RawUUID is option 97 as received, for echoing it back.
	RawUUID []byte
}

// Classify reads the boot-related options of a request: option 60 (vendor
// class, RFC 2132 section 9.13), 77 (user class, RFC 3004), 93 (client
// architecture, RFC 4578 section 2.1), 97 (client UUID, RFC 4578 section
// 2.3), iPXE's option 175, ciaddr and giaddr.
func Classify(req *dhcpv4.DHCPv4) Client {
	var c Client
	f := &c.Facts
	f.MAC = req.ClientHWAddr
	f.Hostname = req.HostName()
	f.VendorClass = req.ClassIdentifier()
	f.Addr, _ = AddrOf(req.ClientIPAddr)
	f.Relay, _ = AddrOf(req.GatewayIPAddr)
	if archs := req.ClientArch(); len(archs) > 0 {
		f.Arch, f.HasArch = boot.Arch(archs[0]), true
	}
	if raw := req.Options.Get(dhcpv4.OptionClientMachineIdentifier); len(raw) == 17 && raw[0] == 0 {
		c.RawUUID = raw
		f.UUID = FormatUUID(raw[1:])
	}
	f.Class = classOf(req, f.VendorClass)
	return c
}

// classOf tells iPXE from PXE firmware, HTTP Boot firmware and the rest.
func classOf(req *dhcpv4.DHCPv4, vendor string) boot.Class {
	if isIPXE(req) {
		return boot.ClassIPXE
	}
	switch {
	case strings.HasPrefix(vendor, "PXEClient"):
		return boot.ClassPXE
	case strings.HasPrefix(vendor, "HTTPClient"):
		return boot.ClassHTTP
	}
	return boot.ClassPlain
}

// isIPXE reports whether the request comes from iPXE: user class "iPXE"
// (iPXE sends it unencoded, not in RFC 3004 form) or option 175 present.
func isIPXE(req *dhcpv4.DHCPv4) bool {
	if req.Options.Has(dhcpv4.OptionEtherboot) {
		return true
	}
	for _, uc := range req.UserClass() {
		if uc == "iPXE" {
			return true
		}
	}
	return false
}

// FormatUUID writes 16 bytes as 8-4-4-4-12 lower-case hex, the form the
// inventory and PXELINUX use.
func FormatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// AddrOf converts a non-zero IPv4 address.
func AddrOf(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || a.IsUnspecified() {
		return netip.Addr{}, false
	}
	return a, true
}
