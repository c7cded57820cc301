// Package dhcp6 is rackboot's DHCPv6 responder (RFC 8415) for network
// boot over IPv6: it reads a request (directly or inside Relay-forward
// messages), turns it into boot facts, lets the same boot.Decide as IPv4
// choose, and answers with the boot options of RFC 5970 (59 boot file URL,
// 60 parameters, 16 vendor class) and, in full mode, an IA_NA address from
// the subnet's pools or the machine's fixed ipv6. In proxy mode it answers
// only boot clients, with boot options and no address. It opens no
// sockets: a Conn brings requests with their link-layer source.
package dhcp6

import (
	"bytes"
	"net"
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcpwire"
)

// EnterprisePXE is the enterprise number (Intel, 343) under which UEFI
// firmware sends its vendor class option 16 (RFC 8415 section 21.16).
const EnterprisePXE = 343

// MACSource says how a client's MAC address was learnt.
type MACSource int

// MAC sources, most trusted first.
const (
	MACUnknown MACSource = iota
	// MACLinkLayer is the Ethernet source of an on-link request.
	MACLinkLayer
	// MACRelayOption is option 79 (RFC 6939) of the relay next to the client.
	MACRelayOption
	// MACDUID is the link-layer address inside a DUID-LLT or DUID-LL.
	MACDUID
	// MACInventoryUUID is the MAC of the machine whose uuid is the DUID-UUID.
	MACInventoryUUID
)

func (s MACSource) String() string {
	switch s {
	case MACLinkLayer:
		return "link-layer source"
	case MACRelayOption:
		return "relay option 79"
	case MACDUID:
		return "DUID"
	case MACInventoryUUID:
		return "DUID-UUID in the inventory"
	}
	return "unknown"
}

// Path is what the transport and the relays said about a request: the
// Ethernet source of an on-link one, and, for a relayed one, the
// link-address and option 79 of the relay next to the client.
type Path struct {
	// MAC is the link-layer source of an on-link request; nil if unknown.
	MAC net.HardwareAddr
	// Relayed is set when the request came inside Relay-forward messages.
	Relayed bool
	// LinkAddr is the innermost relay's link-address (RFC 8415 section
	// 9): an address on the client's link, which picks the subnet.
	LinkAddr netip.Addr
	// RelayMAC is option 79 of the innermost relay; nil if absent.
	RelayMAC net.HardwareAddr
}

// Client is what a request tells about its sender.
type Client struct {
	Facts boot.Facts
	// DUID is the client identifier (option 1) as sent.
	DUID    []byte
	DUIDTyp dhcpv6.DUIDType
	// MACFrom says where Facts.MAC came from.
	MACFrom MACSource
}

// Classify reads the boot facts of msg: option 61 (client architecture,
// RFC 5970 section 3.3), 16 (vendor class "PXEClient…"/"HTTPClient…"),
// 15 (user class "iPXE"), the DUID (option 1; a DUID-UUID, RFC 6355, is the
// SMBIOS UUID) and the client's MAC: the link-layer source of an on-link
// request, else option 79 from the relay, else the DUID's link-layer
// address, else the MAC of the inventory machine with the DUID's UUID
// (inv may be nil).
func Classify(msg *dhcpv6.Message, p Path, inv *boot.Inventory) Client {
	var c Client
	f := &c.Facts
	if archs := msg.Options.ArchTypes(); len(archs) > 0 {
		f.Arch, f.HasArch = boot.Arch(archs[0]), true
	}
	f.VendorClass = vendorClass(msg)
	f.Class = classOf(msg, f.VendorClass)
	if fq := msg.Options.FQDN(); fq != nil && fq.DomainName != nil {
		if labels := fq.DomainName.Labels; len(labels) > 0 {
			f.Hostname = strings.SplitN(labels[0], ".", 2)[0]
		}
	}
	if cid := msg.GetOneOption(dhcpv6.OptionClientID); cid != nil {
		c.DUID = cid.ToBytes()
	}
	duid := msg.Options.ClientID()
	if duid != nil {
		c.DUIDTyp = duid.DUIDType()
	}
	f.MAC, c.MACFrom = macOf(p, duid)
	if u, ok := duid.(*dhcpv6.DUIDUUID); ok && u.UUID != ([16]byte{}) {
		f.UUID = uuidOf(u.UUID, inv)
		if f.MAC == nil && inv != nil {
			if m := inv.MachineByUUID(f.UUID); m != nil && m.HWAddr != nil {
				f.MAC, c.MACFrom = m.HWAddr, MACInventoryUUID
			}
		}
	}
	return c
}

// macOf picks the MAC (see Classify).
func macOf(p Path, duid dhcpv6.DUID) (net.HardwareAddr, MACSource) {
	switch {
	case !p.Relayed && len(p.MAC) == 6:
		return p.MAC, MACLinkLayer
	case p.Relayed && len(p.RelayMAC) == 6:
		return p.RelayMAC, MACRelayOption
	}
	switch d := duid.(type) {
	case *dhcpv6.DUIDLLT:
		if d.HWType == iana.HWTypeEthernet && len(d.LinkLayerAddr) == 6 {
			return d.LinkLayerAddr, MACDUID
		}
	case *dhcpv6.DUIDLL:
		if d.HWType == iana.HWTypeEthernet && len(d.LinkLayerAddr) == 6 {
			return d.LinkLayerAddr, MACDUID
		}
	}
	return nil, MACUnknown
}

// uuidOf formats a DUID-UUID. RFC 6355 puts the UUID in network order,
// but OVMF writes the SMBIOS GUID in its little-endian layout; the order
// that names a machine of the inventory wins, else network order.
func uuidOf(u [16]byte, inv *boot.Inventory) string {
	plain := dhcpwire.FormatUUID(u[:])
	if inv == nil || inv.MachineByUUID(plain) != nil {
		return plain
	}
	g := u
	g[0], g[1], g[2], g[3] = u[3], u[2], u[1], u[0]
	g[4], g[5], g[6], g[7] = u[5], u[4], u[7], u[6]
	if swapped := dhcpwire.FormatUUID(g[:]); inv.MachineByUUID(swapped) != nil {
		return swapped
	}
	return plain
}

// vendorClass returns the first vendor class data of enterprise 343, or of
// any enterprise when none is 343.
func vendorClass(msg *dhcpv6.Message) string {
	var first string
	for _, vc := range msg.Options.VendorClasses() {
		if len(vc.Data) == 0 {
			continue
		}
		if vc.EnterpriseNumber == EnterprisePXE {
			return string(vc.Data[0])
		}
		if first == "" {
			first = string(vc.Data[0])
		}
	}
	return first
}

// classOf tells iPXE (user class "iPXE") from PXE and HTTP Boot firmware
// and the rest.
func classOf(msg *dhcpv6.Message, vendor string) boot.Class {
	for _, uc := range msg.Options.UserClasses() {
		if bytes.Equal(uc, []byte("iPXE")) {
			return boot.ClassIPXE
		}
	}
	switch {
	case strings.HasPrefix(vendor, "PXEClient"):
		return boot.ClassPXE
	case strings.HasPrefix(vendor, "HTTPClient"):
		return boot.ClassHTTP
	}
	return boot.ClassPlain
}
