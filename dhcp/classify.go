// Package dhcp is rackboot's DHCPv4 server: it classifies requests, hands
// out addresses from subnets and fixed assignments (RFC 2131), adds the boot
// fields PXE firmware and iPXE need, and delivers replies through a raw
// AF_PACKET socket.
package dhcp

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
)

// Option codes the library has no accessor for.
const (
	optVendorSpecific = dhcpv4.GenericOptionCode(43)  // RFC 2132 section 8.4
	optClientUUID     = dhcpv4.GenericOptionCode(97)  // RFC 4578 section 2.3
	optIPXEEncap      = dhcpv4.GenericOptionCode(175) // iPXE's encapsulated options
)

// Class is the kind of boot client that sent a request.
type Class int

// Client classes, from the least to the most capable.
const (
	// ClassPlain is a client that does not network boot (no option 60
	// PXEClient/HTTPClient, not iPXE): it gets an address only.
	ClassPlain Class = iota
	// ClassPXE is PXE firmware (option 60 starts with "PXEClient"): it
	// loads a boot program over TFTP.
	ClassPXE
	// ClassHTTP is UEFI HTTP Boot firmware (option 60 starts with
	// "HTTPClient"): it loads a URL.
	ClassHTTP
	// ClassIPXE is iPXE (user class "iPXE" or option 175): it gets the
	// URL of its script.
	ClassIPXE
)

func (c Class) String() string {
	return [...]string{"plain", "pxe", "httpboot", "ipxe"}[c]
}

// Client is what a DHCP request tells about its sender.
type Client struct {
	Class       Class
	VendorClass string
	// UUID is option 97 without its type byte, in the usual text form;
	// RawUUID is the option as received, for echoing it back.
	UUID    string
	RawUUID []byte
	Facts   boot.Facts
}

// Classify reads the boot-related options of a request: option 60 (vendor
// class, RFC 2132 section 9.13), 77 (user class, RFC 3004), 93 (client
// architecture, RFC 4578 section 2.1), 97 (client UUID, RFC 4578 section
// 2.3) and iPXE's option 175.
func Classify(req *dhcpv4.DHCPv4) Client {
	c := Client{VendorClass: req.ClassIdentifier()}
	c.Facts.MAC = req.ClientHWAddr
	c.Facts.Hostname = req.HostName()
	if archs := req.ClientArch(); len(archs) > 0 {
		c.Facts.Arch, c.Facts.HasArch = boot.Arch(archs[0]), true
	}
	if raw := req.Options.Get(optClientUUID); len(raw) == 17 && raw[0] == 0 {
		c.RawUUID = raw
		c.UUID = formatUUID(raw[1:])
		c.Facts.UUID = c.UUID
	}
	c.Class = classOf(req, c.VendorClass)
	return c
}

// classOf tells iPXE from PXE firmware, HTTP Boot firmware and the rest.
func classOf(req *dhcpv4.DHCPv4, vendor string) Class {
	if isIPXE(req) {
		return ClassIPXE
	}
	switch {
	case strings.HasPrefix(vendor, "PXEClient"):
		return ClassPXE
	case strings.HasPrefix(vendor, "HTTPClient"):
		return ClassHTTP
	}
	return ClassPlain
}

// isIPXE reports whether the request comes from iPXE: user class "iPXE"
// (iPXE sends it unencoded, not in RFC 3004 form) or option 175 present.
func isIPXE(req *dhcpv4.DHCPv4) bool {
	if req.Options.Has(optIPXEEncap) {
		return true
	}
	for _, uc := range req.UserClass() {
		if uc == "iPXE" {
			return true
		}
	}
	return false
}

// formatUUID writes 16 bytes as 8-4-4-4-12 lower-case hex.
func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
