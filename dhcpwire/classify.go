// Package dhcpwire is the DHCPv4 wire layer that full DHCP and proxyDHCP
// share: it turns a request into boot facts, a boot decision into reply
// fields, builds replies, routes them per RFC 2131 section 4.1, and runs the
// bounded receive loop that answers them. It opens no sockets.
package dhcpwire

import (
	"encoding/binary"
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
	f.Arch, f.HasArch = clientArch(req)
	if raw := req.Options.Get(dhcpv4.OptionClientMachineIdentifier); len(raw) == 17 && raw[0] == 0 {
		c.RawUUID = raw
		f.UUID = FormatUUID(raw[1:])
	}
	f.Class = classOf(req, f.VendorClass)
	return c
}

// clientArch is the first architecture of option 93 (RFC 4578 section
// 2.1), read in place: as req.ClientArch(), a value that is not a
// non-empty list of 2-byte types counts as absent.
func clientArch(req *dhcpv4.DHCPv4) (boot.Arch, bool) {
	v := req.Options.Get(dhcpv4.OptionClientSystemArchitectureType)
	if len(v) < 2 || len(v)%2 != 0 {
		return 0, false
	}
	return boot.Arch(binary.BigEndian.Uint16(v)), true
}

// MessageTypeOf is req.MessageType() (option 53, RFC 2132 section 9.6)
// read in place, without the decoder the library allocates per call:
// MessageTypeNone unless the option holds exactly one byte.
func MessageTypeOf(req *dhcpv4.DHCPv4) dhcpv4.MessageType {
	if v := req.Options.Get(dhcpv4.OptionDHCPMessageType); len(v) == 1 {
		return dhcpv4.MessageType(v[0])
	}
	return dhcpv4.MessageTypeNone
}

// OptionAddr is AddrOf(dhcpv4.GetIP(code, req.Options)) read in place,
// for options 50 and 54 (RFC 2132 sections 9.1 and 9.7): false unless the
// option holds exactly 4 bytes of a non-zero address.
func OptionAddr(req *dhcpv4.DHCPv4, code dhcpv4.OptionCode) (netip.Addr, bool) {
	v := req.Options.Get(code)
	if len(v) != net.IPv4len {
		return netip.Addr{}, false
	}
	return AddrOf(v)
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
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	hex.Encode(out[9:13], b[4:6])
	hex.Encode(out[14:18], b[6:8])
	hex.Encode(out[19:23], b[8:10])
	hex.Encode(out[24:36], b[10:16])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}

// AddrOf converts a non-zero IPv4 address.
func AddrOf(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || a.IsUnspecified() {
		return netip.Addr{}, false
	}
	return a, true
}
