package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"

func TestBootBIOS(t *testing.T) { bootVM(t, "bios") }

func TestBootUEFI(t *testing.T) {
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("UEFI boot needs OVMF (%s missing: apt-get install ovmf)", ovmfCode)
	}
	bootVM(t, "uefi")
}

// bootVM runs `lab.sh e2e mode` and fails with the script's output (rackboot's
// log and the VM console) when the VM does not reach the payload.
//
// VM boots run in parallel with each other, two at a time (make e2e passes
// -parallel 2): each lab is a namespace of its own.
func bootVM(t *testing.T, mode string) { bootVMEnv(t, mode) }

// bootVMEnv is bootVM with more environment (KEY=value) for lab.sh.
func bootVMEnv(t *testing.T, mode string, env ...string) {
	t.Parallel()
	root := repoRoot(t)
	requireLab(t, root)
	runLab(t, root, env, "e2e", mode)
}

// runLab runs lab.sh with args and fails with the script's output
// (rackboot's log and the VM console) when it exits non-zero.
func runLab(t *testing.T, root string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget(t))
	defer cancel()

	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(root, "testdata/lab/lab.sh")}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// On timeout ask the script to tear its lab down (its TERM trap does)
	// rather than killing it outright and leaving the namespace behind.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second

	name := strings.Join(args, " ")
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("lab.sh %s: test deadline reached after %s\n%s", name, time.Since(start).Round(time.Second), out.String())
		}
		t.Fatalf("lab.sh %s: %v after %s\n%s", name, err, time.Since(start).Round(time.Second), out.String())
	}
	t.Logf("lab.sh %s passed in %s\n%s", name, time.Since(start).Round(time.Second), out.String())
}

// requireLab skips the test when the machine cannot run the lab.
func requireLab(t *testing.T, root string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end boot tests need root (network namespaces, tap devices); run `sudo make e2e`")
	}
	for _, tool := range []string{"qemu-system-x86_64", "ip", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("end-to-end boot tests need %s (apt-get install qemu-system-x86 iproute2)", tool)
		}
	}
	bin := os.Getenv("RACKBOOT_BIN")
	if bin == "" {
		bin = filepath.Join(root, "bin", "rackboot")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s is not built: run `make build` (or `make e2e`)", bin)
	}
}

// budget is how long one boot may take: up to the test binary's deadline,
// less a margin for the script's clean-up.
func budget(t *testing.T) time.Duration {
	d := 10 * time.Minute
	if dl, ok := t.Deadline(); ok {
		if left := time.Until(dl) - 45*time.Second; left < d {
			d = left
		}
	}
	return d
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
