package dhcpwire

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// TestNewReplyBytes checks NewReply byte for byte against the library's
// modifiers it stands for.
func TestNewReplyBytes(t *testing.T) {
	sid := netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name string
		mods []dhcpv4.Modifier
		mt   dhcpv4.MessageType
	}{
		{"plain offer", nil, dhcpv4.MessageTypeOffer},
		{"relayed with option 82", []dhcpv4.Modifier{
			dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1)),
			dhcpv4.WithGeneric(dhcpv4.OptionRelayAgentInformation, []byte{1, 5, 's', 'w', 'p', '1', '2'}),
		}, dhcpv4.MessageTypeAck},
		{"client id and broadcast", []dhcpv4.Modifier{
			dhcpv4.WithGeneric(dhcpv4.OptionClientIdentifier, []byte{1, 0x52, 0x54, 0, 0xaa, 0xbb, 0xcc}),
			dhcpv4.WithBroadcast(true),
		}, dhcpv4.MessageTypeNak},
		{"IEEE 802 request", []dhcpv4.Modifier{dhcpv4.WithHWType(iana.HWTypeIEEE802)}, dhcpv4.MessageTypeOffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := dhcpv4.NewDiscovery(otherMAC, tt.mods...)
			if err != nil {
				t.Fatal(err)
			}
			checkNewReply(t, req, tt.mt, sid)
		})
	}
}

// checkNewReply fails when NewReply's bytes differ from those of the
// library's dhcpv4.NewReplyFromRequest with the modifiers NewReply stands
// for.
func checkNewReply(t *testing.T, req *dhcpv4.DHCPv4, mt dhcpv4.MessageType, sid netip.Addr) {
	t.Helper()
	want, err := dhcpv4.NewReplyFromRequest(req,
		dhcpv4.WithTransactionID(req.TransactionID),
		dhcpv4.WithOptionCopied(req, dhcpv4.OptionRelayAgentInformation),
		dhcpv4.WithOptionCopied(req, dhcpv4.OptionClientIdentifier),
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(sid.AsSlice())),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := NewReply(req, mt, sid).ToBytes(); !bytes.Equal(got, want.ToBytes()) {
		t.Errorf("NewReply:\n% x\nwant\n% x", got, want.ToBytes())
	}
}

// TestOptionReaders checks the in-place option readers against the
// library's decoders on every length around the valid one.
func TestOptionReaders(t *testing.T) {
	req, err := dhcpv4.NewDiscovery(otherMAC)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 7 {
		val := []byte{0, 7, 192, 0, 2, 9}[:min(n, 6)]
		if n == 6 {
			val = nil
		}
		for _, code := range []dhcpv4.OptionCode{dhcpv4.OptionDHCPMessageType, dhcpv4.OptionRequestedIPAddress, dhcpv4.OptionClientSystemArchitectureType} {
			req.Options = dhcpv4.Options{}
			if val != nil {
				req.Options[code.Code()] = val
			}
			checkOptionReaders(t, req)
		}
	}
}

// checkOptionReaders fails when an in-place reader disagrees with the
// library.
func checkOptionReaders(t *testing.T, req *dhcpv4.DHCPv4) {
	t.Helper()
	if got, want := MessageTypeOf(req), req.MessageType(); got != want {
		t.Errorf("MessageTypeOf(%v) = %v, want %v", req.Options, got, want)
	}
	for _, code := range []dhcpv4.OptionCode{dhcpv4.OptionRequestedIPAddress, dhcpv4.OptionServerIdentifier} {
		got, gotOK := OptionAddr(req, code)
		want, wantOK := AddrOf(dhcpv4.GetIP(code, req.Options))
		if got != want || gotOK != wantOK {
			t.Errorf("OptionAddr(%v, %s) = %v %v, want %v %v", req.Options, code, got, gotOK, want, wantOK)
		}
	}
	arch, ok := clientArch(req)
	archs := req.ClientArch()
	if ok != (len(archs) > 0) || ok && uint16(arch) != uint16(archs[0]) {
		t.Errorf("clientArch(%v) = %v %v, want %v", req.Options, arch, ok, archs)
	}
}

func TestFormatUUID(t *testing.T) {
	b := []byte{0x4c, 0x4c, 0x45, 0x44, 0x00, 0x4e, 0x10, 0x80, 0x80, 0x42, 0xb8, 0xc0, 0x4f, 0x4e, 0x4b, 0x31}
	if got, want := FormatUUID(b), "4c4c4544-004e-1080-8042-b8c04f4e4b31"; got != want {
		t.Errorf("FormatUUID = %q, want %q", got, want)
	}
}
