package dhcp6

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"github.com/rackboot/rackboot/boot"
)

// TestClassifyMAC: the link-layer source of an on-link request wins, then
// option 79 of a relayed one, then the DUID, then the inventory machine
// with the DUID-UUID (in either byte order).
func TestClassifyMAC(t *testing.T) {
	h, _ := newTestHandler(t, false)
	inv := h.cfg.Inventory()
	frameMAC, relayMAC := mustMAC("02:00:00:00:00:0f"), mustMAC("02:00:00:00:00:79")
	guid := [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	tests := []struct {
		name     string
		c        client
		path     Path
		wantMAC  string
		wantFrom MACSource
		wantUUID string
		class    boot.Class
	}{
		{"on-link frame", ovmfPXE(otherMAC), Path{MAC: frameMAC}, frameMAC.String(), MACLinkLayer, "", boot.ClassPXE},
		{"relay option 79", ovmfPXE(otherMAC), Path{Relayed: true, RelayMAC: relayMAC, MAC: frameMAC}, relayMAC.String(), MACRelayOption, "", boot.ClassPXE},
		{"relayed without 79: DUID-LLT", ovmfHTTP(otherMAC), Path{Relayed: true}, otherMAC.String(), MACDUID, "", boot.ClassHTTP},
		{"ipxe zero uuid relayed: unknown", ipxe([16]byte{}), Path{Relayed: true}, "", MACUnknown, "", boot.ClassIPXE},
		{"ipxe uuid in GUID order names a machine", ipxe(guid), Path{Relayed: true}, "52:54:00:00:00:77", MACInventoryUUID, "33221100-5544-7766-8899-aabbccddeeff", boot.ClassIPXE},
		{"plain", plain(otherMAC), Path{}, otherMAC.String(), MACDUID, "", boot.ClassPlain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(tt.c.msg(dhcpv6.MessageTypeSolicit), tt.path, inv)
			if c.Facts.MAC.String() != tt.wantMAC || c.MACFrom != tt.wantFrom || c.Facts.UUID != tt.wantUUID || c.Facts.Class != tt.class {
				t.Errorf("got MAC %q from %v, uuid %q, class %v; want %q from %v, %q, %v",
					c.Facts.MAC, c.MACFrom, c.Facts.UUID, c.Facts.Class, tt.wantMAC, tt.wantFrom, tt.wantUUID, tt.class)
			}
		})
	}
	if c := Classify(ovmfPXE(otherMAC).msg(dhcpv6.MessageTypeSolicit), Path{}, inv); !c.Facts.HasArch || c.Facts.Arch != boot.ArchEFIx64 {
		t.Errorf("arch %v %v, want 7", c.Facts.Arch, c.Facts.HasArch)
	}
}
