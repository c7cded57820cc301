package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestClusterTakeover runs `testdata/lab/cluster.sh e2e`: two instances on
// one bridge sharing a one-member etcd, perfdhcp DORA against both and
// this binary as the checked test client, kill -9 of one instance mid-run;
// then no address ACKed to two MACs, every ACKed lease bound in etcd, the
// survivor owning every bucket within cluster.takeover, and a BIOS VM
// whose bucket was the dead instance's booting from the survivor.
func TestClusterTakeover(t *testing.T) {
	root := repoRoot(t)
	requireLab(t, root)
	for _, tool := range []string{"etcd", "perfdhcp", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the cluster test needs %s (apt-get install etcd-server kea-admin curl)", tool)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget(t))
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "testdata/lab/cluster.sh"), "e2e")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "RB_DHCP_HELPER="+self)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("cluster.sh e2e: test deadline reached after %s\n%s", time.Since(start).Round(time.Second), out.String())
		}
		t.Fatalf("cluster.sh e2e: %v after %s\n%s", err, time.Since(start).Round(time.Second), out.String())
	}
	t.Logf("cluster.sh e2e passed in %s\n%s", time.Since(start).Round(time.Second), out.String())
}
