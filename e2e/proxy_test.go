package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// The proxyDHCP tests run dnsmasq as the network's plain DHCP server (no
// boot options) and `rackboot serve` with dhcp.mode: proxy; lab.sh passes
// only when the VM reaches the payload, rackboot logged proxy offers and no
// address offers, and dnsmasq acked the VM's address.

func TestProxyBIOS(t *testing.T) { requireDnsmasq(t); bootVM(t, "proxy-bios") }

func TestProxyUEFI(t *testing.T) {
	requireDnsmasq(t)
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("UEFI boot needs OVMF (%s missing: apt-get install ovmf)", ovmfCode)
	}
	bootVM(t, "proxy-uefi")
}

// TestProxyPeerBIOS puts the DHCP server in a namespace of its own on the
// same bridge, as on a real segment.
func TestProxyPeerBIOS(t *testing.T) { requireDnsmasq(t); bootVM(t, "proxy-peer-bios") }

func requireDnsmasq(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dnsmasq"); err != nil {
		t.Skip("proxyDHCP tests need dnsmasq as the plain DHCP server (apt-get install dnsmasq-base)")
	}
}

// TestDHCPOffUEFI runs rackboot with dhcp.mode: off and dnsmasq configured
// as the README tells users to (boot file by architecture, the iPXE
// user-class test that breaks the chainload loop): UEFI firmware PXE loads
// ipxe.efi from rackboot's TFTP, then iPXE its script over HTTP.
func TestDHCPOffUEFI(t *testing.T) {
	requireDnsmasq(t)
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("UEFI boot needs OVMF (%s missing: apt-get install ovmf)", ovmfCode)
	}
	bootVM(t, "off-uefi")
}
