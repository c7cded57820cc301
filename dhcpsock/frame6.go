package dhcpsock

import (
	"encoding/binary"
	"net/netip"
)

// ipv6HeaderLen is the fixed IPv6 header (RFC 8200 section 3).
const ipv6HeaderLen = 40

// udp6 is an IPv6 UDP datagram as read from a packet socket.
type udp6 struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Payload          []byte
}

// parseUDP6 reads an IPv6 packet (no link header) whose next header is
// UDP; packets with extension headers are not DHCPv6 from a client and are
// refused. Lengths are checked, checksums are not (the kernel has checked
// the frame).
func parseUDP6(b []byte) (udp6, error) {
	if len(b) < ipv6HeaderLen+udpHeaderLen || b[0]>>4 != 6 || b[6] != 17 {
		return udp6{}, errNotDHCP
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	if plen < udpHeaderLen || ipv6HeaderLen+plen > len(b) {
		return udp6{}, errNotDHCP
	}
	u := b[ipv6HeaderLen : ipv6HeaderLen+plen]
	ulen := int(binary.BigEndian.Uint16(u[4:6]))
	if ulen < udpHeaderLen || ulen > len(u) {
		return udp6{}, errNotDHCP
	}
	return udp6{
		Src:     netip.AddrFrom16([16]byte(b[8:24])),
		Dst:     netip.AddrFrom16([16]byte(b[24:40])),
		SrcPort: binary.BigEndian.Uint16(u[0:2]),
		DstPort: binary.BigEndian.Uint16(u[2:4]),
		Payload: u[udpHeaderLen:ulen],
	}, nil
}
