package e2e

import "testing"

// TestDoctor runs `rackboot doctor --interface br0` in the lab (no VM):
// with no DHCP server it must recommend full mode, with a plain dnsmasq
// proxy mode, with a dnsmasq that sends PXE boot options off mode; lab.sh
// also checks the answer line, the interface line and the port lines.
func TestDoctor(t *testing.T) {
	root := repoRoot(t)
	requireLab(t, root)
	for _, mode := range []string{"none", "plain", "pxe"} {
		t.Run(mode, func(t *testing.T) {
			if mode != "none" {
				requireDnsmasq(t)
			}
			runLab(t, root, nil, "doctor", mode)
		})
	}
}
