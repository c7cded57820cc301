package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	chromium  = "/usr/bin/chromium"
	vmMAC     = "52:54:00:12:34:56"
	dashboard = "http://192.0.2.1:8080/"
)

// TestDashboard opens the dashboard in headless Chromium inside the lab's
// namespace, boots a BIOS VM whose payload reports to /api/v1/report, and
// checks that the machine's row goes from "unseen" to "booted" without the
// page being reloaded; then it opens the machine's page and finds the
// DHCP, HTTP and kernel steps of its timeline. Screenshots of both pages
// go to the test's artifact folder (go test -artifacts).
func TestDashboard(t *testing.T) {
	root := repoRoot(t)
	requireLab(t, root)
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("the dashboard test needs %s (apt-get install chromium)", chromium)
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), budget(t))
	defer cancel()

	work := t.TempDir()
	ready := filepath.Join(work, "lab")
	lab := exec.CommandContext(ctx, "bash", filepath.Join(root, "testdata/lab/lab.sh"), "e2e", "bios")
	lab.Dir = root
	lab.Env = append(os.Environ(), "LAB_REPORT=1", "LAB_READY_FILE="+ready)
	var out bytes.Buffer
	lab.Stdout, lab.Stderr = &out, &out
	lab.Cancel = func() error { return lab.Process.Signal(syscall.SIGTERM) }
	lab.WaitDelay = 30 * time.Second
	if err := lab.Start(); err != nil {
		t.Fatal(err)
	}
	labDone := make(chan error, 1)
	go func() { labDone <- lab.Wait() }()
	fail := func(format string, args ...any) {
		t.Helper()
		os.WriteFile(ready+".booted.go", nil, 0o644) // let the lab end
		os.WriteFile(ready+".server.go", nil, 0o644)
		<-labDone
		t.Fatalf(format+"\n----- lab.sh\n%s", append(args, out.String())...)
	}

	ns, err := waitFile(ctx, ready+".server", labDone)
	if err != nil {
		fail("lab.sh did not start its server: %v", err)
	}
	bctx, stop := inNamespace(ctx, ns, work)
	defer stop()
	if err := chromedp.Do(bctx); err != nil {
		fail("starting chromium in %s: %v", ns, err)
	}
	row := fmt.Sprintf(`tr[data-mac=%q]`, vmMAC)
	if err := chromedp.Do(bctx,
		chromedp.Navigate(dashboard),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(`#live.on`)),
	); err != nil {
		fail("opening the dashboard: %v", err)
	}
	before, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.rbNoReload = "same page"; document.querySelector(`+jsString(row)+`).dataset.state`))
	if err != nil {
		fail("reading the row: %v", err)
	}
	if before != "unseen" {
		fail("before the VM started, the row's state is %q, want unseen", before)
	}
	os.WriteFile(ready+".server.go", nil, 0o644) // start the VM

	states, err := watchRow(bctx, row, labDone)
	if err != nil {
		fail("%v (states seen: %v)", err, states)
	}
	t.Logf("row states, live: %v", states)
	same, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.rbNoReload || "reloaded"`))
	if err != nil || same != "same page" {
		fail("the page was reloaded (%q, %v)", same, err)
	}
	if len(states) < 2 {
		fail("the row went straight to booted; no live step seen: %v", states)
	}
	listShot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("screenshot: %v", err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`a[href="#/m/`+vmMAC+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline tbody tr[data-step="kernel"]`)),
	); err != nil {
		fail("opening the machine's page: %v", err)
	}
	steps, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#timeline tbody tr")].map(r => r.dataset.kind + ":" + r.dataset.step)`))
	if err != nil {
		fail("reading the timeline: %v", err)
	}
	machineShot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("screenshot: %v", err)
	}
	joined := strings.Join(steps, " ")
	for _, want := range []string{"dhcp:dhcp", "http:script", "http:kernel", "http:initrd", "report:report"} {
		if !strings.Contains(joined, want) {
			fail("the machine's timeline lacks %s: %v", want, steps)
		}
	}
	why, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#machine-h`)))
	if !strings.Contains(why, "booted") {
		fail("the machine's page heading %q does not say booted", why)
	}
	dir := t.ArtifactDir()
	for name, b := range map[string][]byte{"dashboard.png": listShot, "dashboard-machine.png": machineShot} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s; timeline: %v", dir, steps)

	os.WriteFile(ready+".booted.go", nil, 0o644)
	if err := <-labDone; err != nil {
		t.Fatalf("lab.sh e2e bios: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "timeline: "+vmMAC+" booted") {
		t.Errorf("lab.sh did not confirm the report:\n%s", out.String())
	}
}

// watchRow polls the row's state until it is booted, recording each state
// it showed; it fails when the lab ends first or after 8 minutes.
func watchRow(ctx context.Context, row string, labDone <-chan error) ([]string, error) {
	var states []string
	deadline := time.Now().Add(8 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(row)+`) || {dataset: {}}).dataset.state || ""`))
		if err != nil {
			return states, err
		}
		if len(states) == 0 || states[len(states)-1] != st {
			states = append(states, st)
		}
		if st == "booted" {
			return states, nil
		}
		select {
		case err := <-labDone:
			return states, fmt.Errorf("lab.sh ended before the row showed booted: %v", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	return states, errors.New("the row did not reach booted within 8 minutes")
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// waitFile waits for the lab's handshake file and returns its content.
func waitFile(ctx context.Context, name string, labDone <-chan error) (string, error) {
	for {
		if b, err := os.ReadFile(name); err == nil {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case err := <-labDone:
			return "", fmt.Errorf("lab.sh ended: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// inNamespace runs Chromium inside the lab's namespace (ip netns exec),
// where the dashboard's address is; chromedp talks to it over the
// --remote-debugging-pipe file descriptors, which ip netns exec passes on.
func inNamespace(ctx context.Context, ns, work string) (context.Context, func()) {
	actx, cancelA := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 860), chromedp.UserDataDir(filepath.Join(work, "chromium")),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			ip, err := exec.LookPath("ip")
			if err != nil {
				ip = "/usr/sbin/ip"
			}
			cmd.Path = ip
			cmd.Args = append([]string{"ip", "netns", "exec", ns, chromium}, cmd.Args[1:]...)
		}))
	bctx, cancelB := chromedp.NewContext(actx)
	return bctx, func() { cancelB(); cancelA() }
}
