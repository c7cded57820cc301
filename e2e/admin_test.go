package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAdminAPIKill9 runs `rackboot serve` (loopback, dhcp.mode: off) with
// an admin token, adds a profile and a machine through `rackboot
// machines add` and the API, checks that the machine's iPXE script boots
// the profile, kills the process with SIGKILL, starts it again and checks
// that the entries are still in force; then removes the machine.
func TestAdminAPIKill9(t *testing.T) {
	bin := requireBinary(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	must(t, os.WriteFile(tokenFile, []byte("e2e-token-123\n"), 0o600))
	file, httpAddr, _ := writeLoopbackConfig(t, dir, "  admin_token_file: "+tokenFile+"\n", "")
	const mac = "52:54:00:aa:bb:01"
	srv := serveLoopback(t, bin, file, httpAddr, nil)
	cli := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append(args, "--server", "http://"+httpAddr, "--token-file", tokenFile)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	api := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+httpAddr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer e2e-token-123")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	script := func() string {
		resp, err := http.Get("http://" + httpAddr + "/ipxe?mac=" + mac)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	before := script()
	if code, body := api("PUT", "/api/v1/profiles/rescue", `{"shell": true}`); code != 201 {
		t.Fatalf("PUT profile: %d %s", code, body)
	}
	if out, err := cli("machines", "add", mac, "--profile", "nope"); err == nil || !strings.Contains(out, "profile:") {
		t.Errorf("machines add with a missing profile: %v\n%s", err, out)
	}
	if out, err := cli("machines", "add", mac, "--profile", "rescue", "--hostname", "n1", "--label", "rack=r1"); err != nil {
		t.Fatalf("machines add: %v\n%s", err, out)
	}
	if out, err := cli("machines", "list"); err != nil || !strings.Contains(out, mac) || !strings.Contains(out, "rescue") {
		t.Errorf("machines list after add: %v\n%s", err, out)
	}
	after := script()
	if after == before || !strings.Contains(after, "shell") {
		t.Fatalf("the added machine's script does not run the rescue profile (the iPXE shell):\n%s", after)
	}
	must(t, srv.cmd.Process.Signal(syscall.SIGKILL))
	<-srv.exited
	srv = serveLoopback(t, bin, file, httpAddr, nil)
	if got := script(); got != after {
		t.Errorf("after kill -9 and a restart the script changed:\n%s\nwant\n%s", got, after)
	}
	if code, body := api("GET", "/api/v1/entries", ""); code != 200 || !strings.Contains(body, mac) || !strings.Contains(body, "rescue") {
		t.Errorf("entries after the restart: %d %s", code, body)
	}
	if out, err := cli("machines", "rm", mac); err != nil {
		t.Fatalf("machines rm: %v\n%s", err, out)
	}
	if got := script(); got != before {
		t.Errorf("after machines rm the script is not the no-profile one again:\n%s", got)
	}
	// Without the token: 401, and the log does not show what was sent.
	req, _ := http.NewRequest("DELETE", "http://"+httpAddr+"/api/v1/profiles/rescue", nil)
	req.Header.Set("Authorization", "Bearer not-the-token-xyz")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	time.Sleep(100 * time.Millisecond)
	if resp.StatusCode != 401 || strings.Contains(srv.log.String(), "not-the-token-xyz") {
		t.Errorf("wrong token: %d; log shows it: %v", resp.StatusCode, strings.Contains(srv.log.String(), "not-the-token-xyz"))
	}
}

// TestAdoptDiscovered boots a BIOS VM that no rule gives a profile, with
// server.discover_hold: lab.sh waits until GET
// /api/v1/machines?state=discovered lists it with its vendor class and
// first_seen and its console shows the no-profile retry loop, adopts it
// with `rackboot machines add MAC --profile demo --hostname adopted1`,
// and passes only when the VM, untouched, boots that profile (its kernel
// command line carries the hostname given at adoption).
func TestAdoptDiscovered(t *testing.T) {
	root := repoRoot(t)
	requireLab(t, root)
	runLab(t, root, nil, "adopt")
}
