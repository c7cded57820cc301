package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The least-privilege tests run rackboot as nobody with exactly the
// capabilities deploy/systemd/rackboot.service grants (lab.sh reads them
// from the unit and runs `setpriv --reuid --inh-caps --ambient-caps
// --bounding-set`), check in /proc that the process runs so, and boot a
// VM: full mode (raw DHCP socket, TFTP on port 69: UEFI firmware PXE
// loads ipxe.efi over it) and proxy mode (raw socket on port 67, port
// 4011).

func TestUnprivilegedFullUEFI(t *testing.T) {
	requireSetpriv(t)
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("UEFI boot needs OVMF (%s missing: apt-get install ovmf)", ovmfCode)
	}
	bootVMEnv(t, "uefi", "LAB_UNPRIVILEGED=1")
}

func TestUnprivilegedProxyBIOS(t *testing.T) {
	requireSetpriv(t)
	requireDnsmasq(t)
	bootVMEnv(t, "proxy-bios", "LAB_UNPRIVILEGED=1")
}

func requireSetpriv(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("the least-privilege tests need setpriv (apt-get install util-linux)")
	}
}

// TestSystemdUnit checks the unit file: systemd-analyze verify finds
// nothing to say about it, it grants CAP_NET_RAW and
// CAP_NET_BIND_SERVICE and nothing else, and it keeps the hardening the
// issue asks for.
func TestSystemdUnit(t *testing.T) {
	unit := filepath.Join(repoRoot(t), "deploy/systemd/rackboot.service")
	data, err := os.ReadFile(unit)
	must(t, err)
	keys := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	caps := []string{"CAP_NET_RAW CAP_NET_BIND_SERVICE"}
	for k, want := range map[string][]string{
		"AmbientCapabilities": caps, "CapabilityBoundingSet": caps, "User": {"rackboot"},
		"StateDirectory": {"rackboot"}, "ProtectSystem": {"strict"}, "NoNewPrivileges": {"yes"},
		"KillSignal": {"SIGTERM"},
	} {
		if !reflect.DeepEqual(keys[k], want) {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze missing: the unit's syntax is not checked")
	}
	// verify wants the ExecStart binary to exist: point it at the built one.
	bin := requireBinary(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "rackboot.service"), bytes.ReplaceAll(data, []byte("/usr/local/bin/rackboot"), []byte(bin)), 0o644))
	out, err := exec.Command("systemd-analyze", "verify", filepath.Join(dir, "rackboot.service")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
