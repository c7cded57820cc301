package doctor

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// TestParseAnswer6: an Advertise with an address and a boot file URL, a
// proxy one (URL, no address), a plain one; another transaction and a
// Solicit are not answers.
func TestParseAnswer6(t *testing.T) {
	xid := dhcpv6.TransactionID{1, 2, 3}
	src := netip.MustParseAddr("fe80::1")
	adv := func(addr string, url string) []byte {
		m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeAdvertise, TransactionID: xid}
		m.AddOption(dhcpv6.OptServerID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}))
		if addr != "" {
			ia := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}}
			ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP(addr)})
			m.AddOption(ia)
		}
		if url != "" {
			m.AddOption(dhcpv6.OptBootFileURL(url))
		}
		return m.ToBytes()
	}
	for _, tt := range []struct {
		name string
		b    []byte
		want Kind
	}{
		{"boot", adv("2001:db8::100", "tftp://[2001:db8::1]/ipxe.efi"), KindBoot},
		{"proxy", adv("", "tftp://[2001:db8::1]/ipxe.efi"), KindProxy},
		{"plain", adv("2001:db8::100", ""), KindPlain},
	} {
		a, ok := ParseAnswer6(tt.b, src, xid)
		if !ok || a.Kind != tt.want || a.Server != "00030001020000000001" {
			t.Errorf("%s: %+v ok=%v, want kind %v", tt.name, a, ok, tt.want)
		}
	}
	if _, ok := ParseAnswer6(adv("", "x"), src, dhcpv6.TransactionID{9}); ok {
		t.Error("another transaction parsed as an answer")
	}
	if _, ok := ParseAnswer6(Solicit6(net.HardwareAddr{2, 0, 0, 0, 0, 2}, xid).ToBytes(), src, xid); ok {
		t.Error("a Solicit parsed as an answer")
	}
	r := Report{Probed6: true, Answers6: []Answer6{{Server: "00030001020000000001", Source: src, Offered: netip.MustParseAddr("2001:db8::100"), BootFileURL: "tftp://[2001:db8::1]/ipxe.efi", Kind: KindBoot}}}
	out := Format(r, Recommend(r))
	if !strings.Contains(out, "  fe80::1 (DUID 00030001020000000001): DHCP server with boot options, offers 2001:db8::100 (boot file URL tftp://[2001:db8::1]/ipxe.efi)") {
		t.Errorf("report:\n%s", out)
	}
}
