package dhcpsock

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// ipv6UDP builds an IPv6 packet carrying one UDP datagram (checksum left
// zero: the parser does not check it).
func ipv6UDP(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	b := make([]byte, ipv6HeaderLen+udpHeaderLen+len(payload))
	b[0] = 6 << 4
	binary.BigEndian.PutUint16(b[4:6], uint16(udpHeaderLen+len(payload)))
	b[6], b[7] = 17, 1
	s, d := src.As16(), dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	u := b[ipv6HeaderLen:]
	binary.BigEndian.PutUint16(u[0:2], sport)
	binary.BigEndian.PutUint16(u[2:4], dport)
	binary.BigEndian.PutUint16(u[4:6], uint16(udpHeaderLen+len(payload)))
	copy(u[udpHeaderLen:], payload)
	return b
}

func TestParseUDP6(t *testing.T) {
	src, dst := netip.MustParseAddr("fe80::5054:ff:fe12:3456"), netip.MustParseAddr("ff02::1:2")
	good := ipv6UDP(src, dst, 546, 547, []byte("solicit"))
	d, err := parseUDP6(append(good, 0, 0, 0)) // Ethernet padding after the packet
	if err != nil || d.Src != src || d.Dst != dst || d.SrcPort != 546 || d.DstPort != 547 || string(d.Payload) != "solicit" {
		t.Fatalf("parseUDP6 = %+v, %v", d, err)
	}
	mutate := func(f func(b []byte)) []byte { c := append([]byte(nil), good...); f(c); return c }
	for name, b := range map[string][]byte{
		"short":            good[:30],
		"ipv4":             mutate(func(b []byte) { b[0] = 0x45 }),
		"extension header": mutate(func(b []byte) { b[6] = 0 }),
		"payload too long": mutate(func(b []byte) { b[4] = 0xff }),
		"udp len short":    mutate(func(b []byte) { b[45] = 2 }),
		"udp len long":     mutate(func(b []byte) { b[45] = 100 }),
	} {
		if _, err := parseUDP6(b); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

// FuzzParseUDP6 checks that no packet crashes the IPv6 parser.
func FuzzParseUDP6(f *testing.F) {
	f.Add(ipv6UDP(netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::1:2"), 546, 547, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseUDP6(b)
		if err == nil && len(d.Payload) > len(b) {
			t.Fatal("payload longer than the packet")
		}
	})
}
