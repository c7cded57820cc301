package boot

import (
	"fmt"
	"net/netip"
)

// HexIP is an IPv4 address as PXELINUX and GRUB write it in config file
// names: 8 upper-case hex digits (192.0.2.91 is C000025B).
func HexIP(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("%02X%02X%02X%02X", b[0], b[1], b[2], b[3])
}

// AddrOfHex turns 8 hex digits (HexIP's form) back into an address; the
// zero Addr when they are not.
func AddrOfHex(hex string) netip.Addr {
	var b [4]byte
	if n, err := fmt.Sscanf(hex, "%02X%02X%02X%02X", &b[0], &b[1], &b[2], &b[3]); err != nil || n != 4 || len(hex) != 8 {
		return netip.Addr{}
	}
	return netip.AddrFrom4(b)
}

// Who names the machine a decision is for, in generated files: "node1
// (52:54:00:12:34:56)", the MAC, or "an unknown client".
func (d Decision) Who() string {
	m := d.Machine
	switch {
	case m == nil:
		return "an unknown client"
	case m.Hostname != "":
		return fmt.Sprintf("%s (%s)", m.Hostname, m.MAC)
	}
	return m.MAC
}
