//go:build linux

package dhcpsock

import (
	"net"
	"net/netip"
	"testing"
)

// TestARPProbeFrame: the probe is a broadcast ARP request for the address
// from sender 0.0.0.0 (RFC 5227 section 2.1.1), and a host's answer is
// read back as that address.
func TestARPProbeFrame(t *testing.T) {
	src := net.HardwareAddr{0x52, 0x54, 0, 0xaa, 0xbb, 0xcc}
	ip := netip.MustParseAddr("192.0.2.100")
	f := arpProbe(src, ip)
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0xaa, 0xbb, 0xcc, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 1,
		0x52, 0x54, 0, 0xaa, 0xbb, 0xcc, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 192, 0, 2, 100,
	}
	if string(f) != string(want) {
		t.Fatalf("probe frame (-want +got):\n-% x\n+% x", want, f)
	}
	if _, ok := arpSender(f); ok {
		t.Error("our own probe (sender 0.0.0.0) counted as an answer")
	}
	reply := append([]byte(nil), f...)
	reply[21] = 2                              // ARP reply
	copy(reply[28:32], []byte{192, 0, 2, 100}) // sender: the host holding it
	if got, ok := arpSender(reply); !ok || got != ip {
		t.Errorf("answer read as %v %v, want %s", got, ok, ip)
	}
}
