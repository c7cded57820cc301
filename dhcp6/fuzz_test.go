package dhcp6

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// FuzzHandle: any datagram, on-link or relayed, in full or proxy mode,
// either gets no reply or one that parses; nothing panics.
func FuzzHandle(f *testing.F) {
	for _, c := range []client{ovmfPXE(knownMAC), ovmfHTTP(otherMAC), ipxe([16]byte{}), plain(otherMAC)} {
		f.Add(c.msg(dhcpv6.MessageTypeSolicit).ToBytes(), false)
		c.server = serverDUID
		f.Add(c.msg(dhcpv6.MessageTypeRequest).ToBytes(), true)
		r, _ := dhcpv6.EncapsulateRelay(c.msg(dhcpv6.MessageTypeRenew), dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:2::1"), net.ParseIP("fe80::1"))
		f.Add(r.ToBytes(), false)
	}
	full, _ := newTestHandler(f, false)
	prox, _ := newTestHandler(f, true)
	f.Fuzz(func(t *testing.T, b []byte, proxy bool) {
		h := full
		if proxy {
			h = prox
		}
		reply, err := h.Handle(b, onLink(otherMAC))
		if err != nil || reply == nil {
			return
		}
		if _, err := dhcpv6.FromBytes(reply); err != nil {
			t.Fatalf("reply to %x does not parse: %v", b, err)
		}
	})
}
