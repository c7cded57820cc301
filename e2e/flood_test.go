package e2e

import (
	"os/exec"
	"testing"
)

// TestDiscoverFloodThenBoot (issue 13, DISCOVER flood): lab.sh floods
// full-mode rackboot (a 101-address pool, conflict detection on) with
// 100,000 DISCOVERs from distinct random MACs that never REQUEST
// (perfdhcp as a relay on the bridge), checks that its resident memory
// stayed under 200 MiB and that no DISCOVER found the pool used up, then
// boots a BIOS VM, which must get an address and reach the payload.
func TestDiscoverFloodThenBoot(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	requireLab(t, root)
	if _, err := exec.LookPath("perfdhcp"); err != nil {
		t.Skip("the flood test needs perfdhcp (apt-get install kea-admin)")
	}
	runLab(t, root, nil, "flood")
}
