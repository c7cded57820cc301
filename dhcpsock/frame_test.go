package dhcpsock

import (
	"encoding/hex"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/rackboot/rackboot/internal/golden"
)

// TestFrameGolden checks the IPv4 and UDP headers byte for byte, and that
// the parser reads back what the builder wrote.
func TestFrameGolden(t *testing.T) {
	d := udp4{
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.100"),
		SrcPort: 67, DstPort: 68, Payload: []byte("rackboot"),
	}
	b := d.marshal()
	golden.Check(t, filepath.Join("testdata", "frame.golden"), []byte(hex.Dump(b)))
	if checksum(b[:ipv4HeaderLen], 0) != 0 {
		t.Error("IPv4 header checksum does not verify")
	}
	udp := b[ipv4HeaderLen:]
	if checksum(udp, pseudoHeaderSum(d.Src.As4(), d.Dst.As4(), len(udp))) != 0 {
		t.Error("UDP checksum does not verify")
	}
	got, err := parseUDP4(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Src != d.Src || got.Dst != d.Dst || got.SrcPort != 67 || got.DstPort != 68 || string(got.Payload) != "rackboot" {
		t.Errorf("round trip = %+v, want %+v", got, d)
	}
}

// TestParseUDP4Rejects checks damaged and foreign datagrams.
func TestParseUDP4Rejects(t *testing.T) {
	good := udp4{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 68, DstPort: 67, Payload: []byte{1}}.marshal()
	mutate := func(f func(b []byte) []byte) []byte { c := append([]byte(nil), good...); return f(c) }
	tests := map[string][]byte{
		"empty":          nil,
		"short":          good[:10],
		"not ipv4":       mutate(func(b []byte) []byte { b[0] = 0x65; return b }),
		"tcp":            mutate(func(b []byte) []byte { b[9] = 6; return b }),
		"bad ihl":        mutate(func(b []byte) []byte { b[0] = 0x41; return b }),
		"total too long": mutate(func(b []byte) []byte { b[2] = 0xff; return b }),
		"fragment":       mutate(func(b []byte) []byte { b[7] = 1; return b }),
		"udp len short":  mutate(func(b []byte) []byte { b[25] = 2; return b }),
		"udp len long":   mutate(func(b []byte) []byte { b[25] = 200; return b }),
	}
	for name, b := range tests {
		if _, err := parseUDP4(b); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

// FuzzParseUDP4 checks that no datagram crashes the frame parser.
func FuzzParseUDP4(f *testing.F) {
	f.Add(udp4{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 68, DstPort: 67, Payload: []byte{1, 2}}.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseUDP4(b)
		if err == nil && len(d.Payload) > len(b) {
			t.Fatal("payload longer than the datagram")
		}
	})
}
