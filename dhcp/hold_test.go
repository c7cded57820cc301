package dhcp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/sirupsen/logrus"
)

// TestDiscoverHold: with server.discover_hold a client no rule gives a
// profile gets an address and the road to the no-profile script (iPXE
// the script URL, BIOS PXE undionly.kpxe), logged with no profile; a
// decision without a profile once made the info log line panic.
func TestDiscoverHold(t *testing.T) {
	var logs bytes.Buffer
	f := newFixtureYAML(t, "server: {discover_hold: true, assets: "+t.TempDir()+"}\n"+testYAML("", testSubnets), func(hc *HandlerConfig) {
		log := logrus.New()
		log.SetOutput(&logs)
		log.SetLevel(logrus.InfoLevel)
		hc.Log = log
	})
	ipxe := f.do(dhcpv4.MessageTypeDiscover, mac(7), dhcpv4.WithUserClass("iPXE", false))
	if ipxe == nil || ipxe.BootFileName != "http://192.0.2.1:8080/boot.ipxe" || ipxe.YourIPAddr.IsUnspecified() {
		t.Fatalf("iPXE, no profile, held: %v", ipxe)
	}
	pxe := f.do(dhcpv4.MessageTypeDiscover, mac(8), dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")),
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.INTEL_X86PC)))
	if pxe == nil || pxe.BootFileName != "undionly.kpxe" {
		t.Fatalf("BIOS PXE, no profile, held: %v", pxe)
	}
	if !strings.Contains(logs.String(), `msg="dhcp offer"`) || !strings.Contains(logs.String(), `profile= `) {
		t.Errorf("the offers are not logged with an empty profile:\n%s", logs.String())
	}
}
