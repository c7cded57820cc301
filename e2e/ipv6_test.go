package e2e

import (
	"os/exec"
	"testing"
)

// IPv6 network boot (testdata/lab/lab6.sh, docs/ipv6.md): an IPv6-only
// bridge whose router advertisements (radvd) carry the M and O flags,
// OVMF with its IPv4 stack switched off. TCG makes each take one to two
// minutes, so there are few of them.

// TestIPv6PXE: OVMF PXE over IPv6 -> DHCPv6 (rackboot full mode) ->
// ipxe.efi over TFTP -> iPXE's DHCPv6 -> HTTP script -> kernel and initrd.
func TestIPv6PXE(t *testing.T) { requireLab6(t); bootLab6(t, "pxe6") }

// TestIPv6HTTPBoot: OVMF HTTP Boot over IPv6 (option 16 HTTPClient in the
// reply), ipxe.efi over HTTP, then iPXE as above.
func TestIPv6HTTPBoot(t *testing.T) { requireLab6(t); bootLab6(t, "httpboot6") }

// TestIPv6Proxy: rackboot proxy mode beside dnsmasq handing out IPv6
// addresses only. It checks the firmware stage (address from dnsmasq,
// ipxe.efi from rackboot over the proxy Advertise, port 4011 and TFTP);
// iPXE cannot take boot options from a DHCPv6 proxy (docs/ipv6.md).
func TestIPv6Proxy(t *testing.T) { requireLab6(t); requireDnsmasq(t); bootLab6(t, "proxy-pxe6") }

// TestDualStack: one IPv4 and one IPv6 subnet; OVMF with both stacks
// boots over the one it tries first (PXE over IPv4), DHCPv6 runs beside.
func TestDualStack(t *testing.T) { requireLab6(t); bootLab6(t, "dual") }

func requireLab6(t *testing.T) {
	t.Helper()
	requireOVMF(t)
	if _, err := exec.LookPath("radvd"); err != nil {
		t.Skip("IPv6 boot tests need radvd for router advertisements (apt-get install radvd)")
	}
}

func bootLab6(t *testing.T, mode string) {
	root := repoRoot(t)
	requireLab(t, root)
	runLab(t, root, nil, "e2e6", mode)
}
