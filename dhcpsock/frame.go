package dhcpsock

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Header sizes without options (RFC 791, RFC 768).
const (
	ipv4HeaderLen = 20
	udpHeaderLen  = 8
)

// errNotDHCP is returned by parseUDP4 for datagrams that are not IPv4/UDP
// or are damaged.
var errNotDHCP = errors.New("not an IPv4 UDP datagram")

// udp4 is an IPv4 UDP datagram as read from a packet socket.
type udp4 struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Payload          []byte
}

// parseUDP4 reads an IPv4 packet (no link header) carrying UDP. It checks
// lengths, not checksums: the kernel has checked the Ethernet FCS and a
// DHCP client may leave the UDP checksum at zero.
func parseUDP4(b []byte) (udp4, error) {
	if len(b) < ipv4HeaderLen || b[0]>>4 != 4 || b[9] != 17 {
		return udp4{}, errNotDHCP
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < ipv4HeaderLen || total < ihl+udpHeaderLen || total > len(b) {
		return udp4{}, errNotDHCP
	}
	if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 { // fragment
		return udp4{}, errNotDHCP
	}
	u := b[ihl:total]
	ulen := int(binary.BigEndian.Uint16(u[4:6]))
	if ulen < udpHeaderLen || ulen > len(u) {
		return udp4{}, errNotDHCP
	}
	return udp4{
		Src:     netip.AddrFrom4([4]byte(b[12:16])),
		Dst:     netip.AddrFrom4([4]byte(b[16:20])),
		SrcPort: binary.BigEndian.Uint16(u[0:2]),
		DstPort: binary.BigEndian.Uint16(u[2:4]),
		Payload: u[udpHeaderLen:ulen],
	}, nil
}

// marshal builds the IPv4 header (TTL 64, DF clear, header checksum) and
// the UDP header (with checksum over the pseudo header, RFC 768) in front of
// the payload.
func (d udp4) marshal() []byte {
	n := ipv4HeaderLen + udpHeaderLen + len(d.Payload)
	b := make([]byte, n)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:4], uint16(n))
	b[8] = 64
	b[9] = 17
	src, dst := d.Src.As4(), d.Dst.As4()
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:12], checksum(b[:ipv4HeaderLen], 0))
	u := b[ipv4HeaderLen:]
	binary.BigEndian.PutUint16(u[0:2], d.SrcPort)
	binary.BigEndian.PutUint16(u[2:4], d.DstPort)
	binary.BigEndian.PutUint16(u[4:6], uint16(udpHeaderLen+len(d.Payload)))
	copy(u[udpHeaderLen:], d.Payload)
	sum := checksum(u, pseudoHeaderSum(src, dst, len(u)))
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:8], sum)
	return b
}

// pseudoHeaderSum is the unfolded sum of the UDP pseudo header.
func pseudoHeaderSum(src, dst [4]byte, udpLen int) uint32 {
	var s uint32
	for i := 0; i < 4; i += 2 {
		s += uint32(src[i])<<8 | uint32(src[i+1])
		s += uint32(dst[i])<<8 | uint32(dst[i+1])
	}
	return s + 17 + uint32(udpLen)
}

// checksum is the Internet checksum (RFC 1071) of b, starting from sum.
func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
