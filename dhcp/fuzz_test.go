package dhcp

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// FuzzHandle feeds arbitrary bytes through parsing and the handler: nothing
// may panic, and a reply must always serialise.
func FuzzHandle(f *testing.F) {
	t := &testing.T{}
	for _, mods := range [][]dhcpv4.Modifier{nil, ipxeMods(), pxe(iana.EFI_X86_64)} {
		f.Add(request(t, dhcpv4.MessageTypeDiscover, otherMAC, mods...).ToBytes())
		f.Add(request(t, dhcpv4.MessageTypeRequest, knownMAC, mods...).ToBytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		h := testHandler(t, "demo", nil)
		if r := h.Handle(req); r != nil {
			_ = r.ToBytes()
			_ = Route(req, r)
		}
	})
}
