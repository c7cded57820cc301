package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardAdopt opens a discovered machine's page in headless
// Chromium and adopts it through the page's form: a wrong token is
// refused (401, shown in the page), the right one adopts it (the API then
// gives the machine the profile), and the token is kept in the tab's
// sessionStorage only. rackboot (loopback, dhcp.mode: off, the discovered
// record seeded in data_dir) and Chromium run in a network namespace of
// the test's own that holds only a loopback interface.
func TestDashboardAdopt(t *testing.T) {
	bin := requireBinary(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("needs %s (apt-get install chromium)", chromium)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := fmt.Sprintf("rb12ui-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	must(t, exec.Command("ip", "-n", ns, "link", "set", "lo", "up").Run())

	dir := t.TempDir()
	const mac, token = "52:54:00:aa:00:01", "ui-token-0123456789"
	must(t, os.MkdirAll(filepath.Join(dir, "data"), 0o750))
	rec := `[{"mac": "` + mac + `", "firmware": "pxe", "vendor_class": "PXEClient:Arch:00000:UNDI:002001", "relay": "198.51.100.1",
	  "circuit_id": "swp7", "first_seen": "2026-12-02T16:00:00Z", "last_seen": "2026-12-02T16:00:05Z", "requests": 2}]`
	must(t, os.WriteFile(filepath.Join(dir, "data", "discovered.json"), []byte(rec), 0o640))
	must(t, os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600))
	file, httpAddr, _ := writeLoopbackConfig(t, dir, "  admin_token_file: "+filepath.Join(dir, "token")+"\n", "")

	srv := exec.CommandContext(ctx, "ip", "netns", "exec", ns, bin, "serve", "--config", file)
	var log strings.Builder
	srv.Stdout, srv.Stderr = &log, &log
	must(t, srv.Start())
	defer func() { srv.Process.Kill(); srv.Wait() }()
	curl := func(path string) string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "curl", "-s", "http://"+httpAddr+path).Output()
		return string(out)
	}
	for start := time.Now(); !strings.Contains(curl("/api/v1/status"), `"version"`); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("rackboot did not answer in the namespace\n%s", log.String())
		}
	}

	bctx, stop := inNamespace(ctx, ns, t.TempDir())
	defer stop()
	result := `#adopt-result`
	if err := chromedp.Do(bctx,
		chromedp.Navigate("http://"+httpAddr+"/#/m/"+mac),
		chromedp.WaitVisible(chromedp.CSS(`#adopt`)),
		chromedp.SetValue(chromedp.CSS(`#adopt-profile`), "disk"),
		chromedp.SetValue(chromedp.CSS(`#adopt-hostname`), "ui1"),
		chromedp.SetValue(chromedp.CSS(`#adopt-token`), "not-the-token"),
		chromedp.Click(chromedp.CSS(`#adopt-submit`)),
		chromedp.WaitVisible(chromedp.CSS(result+`.err`)),
	); err != nil {
		t.Fatalf("the adopt form with a wrong token: %v\n%s", err, log.String())
	}
	refused, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(result)))
	if !strings.Contains(refused, "missing or wrong token") || strings.Contains(curl("/api/v1/entries"), mac) {
		t.Errorf("wrong token: page says %q; entries %s", refused, curl("/api/v1/entries"))
	}
	summary, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#summary`)))
	if !strings.Contains(summary, "swp7") || !strings.Contains(summary, "198.51.100.1") {
		t.Errorf("the machine's page does not show the discovered record: %q", summary)
	}
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.CSS(`#adopt-token`), token),
		chromedp.Click(chromedp.CSS(`#adopt-submit`)),
		chromedp.WaitVisible(chromedp.CSS(result+`.ok`)),
	); err != nil {
		t.Fatalf("the adopt form with the token: %v\n%s", err, log.String())
	}
	var m struct {
		Profile, Hostname, State string
	}
	if err := json.Unmarshal([]byte(curl("/api/v1/machines/"+mac)), &m); err != nil || m.Profile != "disk" || m.State == "discovered" {
		t.Errorf("after adopting: %+v %v", m, err)
	}
	kept, err := chromedp.Run(bctx, chromedp.Evaluate[string](`sessionStorage.getItem("rackboot-admin-token") + "|" + localStorage.length`))
	if err != nil || kept != token+"|0" {
		t.Errorf("token storage: %q %v, want it in sessionStorage only", kept, err)
	}
}
