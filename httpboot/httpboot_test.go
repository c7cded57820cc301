package httpboot

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

const (
	baseURL  = "http://10.0.0.1:8080"
	knownMAC = "52:54:00:12:34:56"
	kernel   = "0123456789abcdefghijklmnopqrstuvwxyz"
	secret   = "TOP SECRET OUTSIDE THE ASSETS TREE"
)

// fixture is a server over a temp assets folder and a small inventory.
type fixture struct {
	srv  *Server
	h    http.Handler
	hook *test.Hook
	dir  string
}

// newFixture builds the server. The assets folder holds vmlinuz and a
// symlink "escape" to a file beside the folder; that file, "secret", must
// never be served.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "assets")
	mustWrite(t, filepath.Join(root, "secret"), secret)
	mustWrite(t, filepath.Join(dir, "vmlinuz"), kernel)
	mustWrite(t, filepath.Join(dir, "debian", "initrd.gz"), "initrd")
	if err := os.Symlink(filepath.Join(root, "secret"), filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	log, hook := test.NewNullLogger()
	store := assets.New(dir, log).WithoutEmbedded().WithSystemDir(t.TempDir())
	inv := boot.NewInventory(testConfig(t))
	srv := New(Options{Inventory: func() *boot.Inventory { return inv }, Assets: store, BaseURL: baseURL + "/", Log: log})
	return &fixture{srv: srv, h: srv.Handler(), hook: hook, dir: dir}
}

// testConfig is an inventory with one known machine and no default.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	mac, err := net.ParseMAC(knownMAC)
	if err != nil {
		t.Fatal(err)
	}
	return &config.Config{
		Profiles: map[string]config.Profile{
			"linux": {Kernel: "vmlinuz", Initrd: []string{"debian/initrd.gz"}, Cmdline: "console=ttyS0"},
			"bad":   {Kernel: "vmlinuz", Cmdline: "quiet\nshell"},
		},
		Machines: []config.Machine{
			{MAC: knownMAC, HWAddr: mac, Profile: "linux"},
			{MAC: "52:54:00:00:00:02", HWAddr: net.HardwareAddr{0x52, 0x54, 0, 0, 0, 2}, Profile: "bad"},
			{MAC: "52:54:00:00:00:03", HWAddr: net.HardwareAddr{0x52, 0x54, 0, 0, 0, 3}, Profile: "missing"},
		},
	}
}

func mustWrite(t testing.TB, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// do sends one request to the handler. target is used as the raw request
// URI, so dot-dots and escapes reach the server unchanged.
func (f *fixture) do(method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		target     string
		hdr        map[string]string
		wantStatus int
		wantType   string
		wantBody   []string // substrings
		wantNot    []string
	}{
		{name: "entry script", method: "GET", target: "/boot.ipxe", wantStatus: 200, wantType: "text/plain",
			wantBody: []string{"#!ipxe", "chain --replace --autofree " + baseURL + "/ipxe?mac=${mac}&"}},
		{name: "known machine bios", method: "GET", target: "/ipxe?mac=" + knownMAC + "&platform=pcbios&buildarch=i386", wantStatus: 200, wantType: "text/plain",
			wantBody: []string{"#!ipxe", "kernel " + baseURL + "/assets/vmlinuz console=ttyS0 ||", "initrd --name initrd.gz " + baseURL + "/assets/debian/initrd.gz", "boot ||"},
			wantNot:  []string{"initrd=initrd.gz"}},
		{name: "known machine hyphen mac efi", method: "GET", target: "/ipxe?mac=52-54-00-12-34-56&platform=efi", wantStatus: 200,
			wantBody: []string{"kernel " + baseURL + "/assets/vmlinuz console=ttyS0 initrd=initrd.gz ||"}},
		{name: "efi by arch", method: "GET", target: "/ipxe?mac=" + knownMAC + "&arch=7", wantStatus: 200,
			wantBody: []string{"initrd=initrd.gz"}},
		{name: "unknown machine", method: "GET", target: "/ipxe?mac=52:54:00:99:99:99&hostname=db1", wantStatus: 200, wantType: "text/plain",
			wantBody: []string{"#!ipxe", "echo rackboot: this machine has no boot profile: no machine entry", "mac=52:54:00:99:99:99", "hostname=db1", "chain --replace --autofree " + baseURL + "/boot.ipxe"}},
		{name: "injected hostname stays inert", method: "GET", target: "/ipxe?mac=52:54:00:99:99:99&hostname=x%0Ashell", wantStatus: 200,
			wantBody: []string{"hostname=x?shell"}, wantNot: []string{"\nshell"}},
		{name: "profile that cannot render", method: "GET", target: "/ipxe?mac=52:54:00:00:00:02", wantStatus: 200,
			wantBody: []string{"profile bad cannot be served"}, wantNot: []string{"\nshell", "kernel "}},
		{name: "profile that does not exist", method: "GET", target: "/ipxe?mac=52:54:00:00:00:03", wantStatus: 200,
			wantBody: []string{"the profile \"missing\" chosen by machine does not exist"}},
		{name: "bad mac", method: "GET", target: "/ipxe?mac=zz:zz", wantStatus: 400,
			wantBody: []string{`bad mac parameter "zz:zz"`}},
		{name: "bad arch", method: "GET", target: "/ipxe?mac=" + knownMAC + "&arch=x86", wantStatus: 400,
			wantBody: []string{`bad arch parameter "x86"`}},
		{name: "asset", method: "GET", target: "/assets/vmlinuz", wantStatus: 200, wantBody: []string{kernel}},
		{name: "asset in folder", method: "GET", target: "/assets/debian/initrd.gz", wantStatus: 200, wantBody: []string{"initrd"}},
		{name: "asset range", method: "GET", target: "/assets/vmlinuz", hdr: map[string]string{"Range": "bytes=10-15"}, wantStatus: 206, wantBody: []string{"abcdef"}},
		{name: "asset not modified", method: "GET", target: "/assets/vmlinuz", hdr: map[string]string{"If-Modified-Since": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, wantStatus: 304},
		{name: "missing asset", method: "GET", target: "/assets/nope", wantStatus: 404},
		{name: "unknown path", method: "GET", target: "/etc/passwd", wantStatus: 404},
		{name: "root", method: "GET", target: "/", wantStatus: 404},
		{name: "post", method: "POST", target: "/boot.ipxe", wantStatus: 405},
	}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.method, tt.target, tt.hdr)
			if w.Code != tt.wantStatus {
				t.Errorf("status (-want +got):\n-%d\n+%d\nbody: %s", tt.wantStatus, w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); tt.wantType != "" && !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type (-want +got):\n-%s\n+%s", tt.wantType, ct)
			}
			body := w.Body.String()
			for _, s := range tt.wantBody {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			for _, s := range tt.wantNot {
				if strings.Contains(body, s) {
					t.Errorf("body has %q:\n%s", s, body)
				}
			}
		})
	}
}

func TestAssetRangeExact(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", "/assets/vmlinuz", map[string]string{"Range": "bytes=10-15"})
	if got, want := w.Body.String(), kernel[10:16]; got != want {
		t.Errorf("range body (-want +got):\n-%q\n+%q", want, got)
	}
	if got, want := w.Header().Get("Content-Range"), "bytes 10-15/36"; got != want {
		t.Errorf("Content-Range (-want +got):\n-%q\n+%q", want, got)
	}
}

func TestAssetHead(t *testing.T) {
	f := newFixture(t)
	w := f.do("HEAD", "/assets/vmlinuz", nil)
	if w.Code != 200 {
		t.Fatalf("status (-want +got):\n-200\n+%d", w.Code)
	}
	if got, want := w.Header().Get("Content-Length"), "36"; got != want {
		t.Errorf("Content-Length (-want +got):\n-%q\n+%q", want, got)
	}
	if w.Header().Get("Last-Modified") == "" || w.Header().Get("Accept-Ranges") != "bytes" {
		t.Errorf("HEAD lacks Last-Modified or Accept-Ranges: %v", w.Header())
	}
}

// traversals are requests that must never reach a file outside the tree.
var traversals = []string{
	"/assets/../secret",
	"/assets/../etc/passwd",
	"/assets/%2e%2e/secret",
	"/assets/%2E%2E/secret",
	"/assets/..%2fsecret",
	"/assets/..%2Fsecret",
	"/assets/%2e%2e%2fsecret",
	"/assets/debian/../../secret",
	"/assets/..%5csecret",
	"/assets/escape",
	"/assets//etc/passwd",
	"/assets/./vmlinuz/../../secret",
	"/assets/%2e%2e/x",
	"/assets/..%2fx",
}

func TestTraversalRefused(t *testing.T) {
	f := newFixture(t)
	for _, target := range traversals {
		t.Run(target, func(t *testing.T) {
			w := f.do("GET", target, nil)
			if w.Code != http.StatusForbidden {
				t.Errorf("status (-want +got):\n-403\n+%d", w.Code)
			}
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("served the file outside the assets tree")
			}
		})
	}
}

// TestServeTraversalOverTCP sends raw requests through a real listener, so
// nothing between the client and the handler cleans the path.
func TestServeTraversalOverTCP(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ln) }()
	for _, target := range append(traversals, "/assets/vmlinuz") {
		status, body := rawGet(t, ln.Addr().String(), target)
		if strings.Contains(body, secret) {
			t.Errorf("GET %s served the file outside the assets tree", target)
		}
		if target == "/assets/vmlinuz" && (status != 200 || !strings.Contains(body, kernel)) {
			t.Errorf("GET %s: status %d body %q", target, status, body)
		}
		if target != "/assets/vmlinuz" && status != 403 {
			t.Errorf("GET %s status (-want +got):\n-403\n+%d", target, status)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after Shutdown (-want +got):\n-<nil>\n+%v", err)
	}
}

// rawGet sends "GET target" verbatim and returns the status and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRequestLogUnknownAddress(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/assets/vmlinuz", nil)
	e := f.hook.LastEntry()
	if e == nil {
		t.Fatal("no log entry")
	}
	if mac, has := e.Data["mac"]; has {
		t.Errorf("field mac = %v for an address that never named one", mac)
	}
}

func TestNoInventory(t *testing.T) {
	log, _ := test.NewNullLogger()
	srv := New(Options{Inventory: func() *boot.Inventory { return nil }, BaseURL: baseURL, Log: log})
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/ipxe?mac="+knownMAC, nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "no inventory loaded") {
		t.Errorf("got %d %q, want 200 and an explanation", w.Code, w.Body)
	}
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		target string
		want   logrus.Fields
	}{
		{"/ipxe?mac=" + knownMAC, logrus.Fields{"method": "GET", "path": "/ipxe", "status": 200, "mac": knownMAC, "profile": "linux", "source": "machine"}},
		{"/ipxe?mac=bogus", logrus.Fields{"method": "GET", "path": "/ipxe", "status": 400, "mac": "bogus"}},
		// Requests without a mac get the one the same address named last.
		{"/assets/vmlinuz", logrus.Fields{"method": "GET", "path": "/assets/vmlinuz", "status": 200, "bytes": int64(len(kernel)), "mac": knownMAC}},
		{"/assets/%2e%2e/x", logrus.Fields{"path": "/assets/%2e%2e/x", "status": 403, "mac": knownMAC}},
		{"/v1/boot/52-54-00-12-34-56", logrus.Fields{"path": "/v1/boot/52-54-00-12-34-56", "status": 200, "mac": knownMAC, "profile": "linux"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			f.hook.Reset()
			f.do("GET", tt.target, nil)
			entries := f.hook.AllEntries()
			if len(entries) != 1 {
				t.Fatalf("log entries (-want +got):\n-1\n+%d", len(entries))
			}
			e := entries[0]
			if e.Level != logrus.InfoLevel || e.Message != "http request" {
				t.Errorf("entry (-want +got):\n-info %q\n+%s %q", "http request", e.Level, e.Message)
			}
			for _, k := range []string{"method", "path", "status", "bytes", "remote", "duration"} {
				if _, ok := e.Data[k]; !ok {
					t.Errorf("field %s missing: %v", k, e.Data)
				}
			}
			for k, want := range tt.want {
				if got := e.Data[k]; got != want {
					t.Errorf("field %s (-want +got):\n-%v (%T)\n+%v (%T)", k, want, want, got, got)
				}
			}
			if _, ok := tt.want["mac"]; !ok {
				if _, has := e.Data["mac"]; has {
					t.Errorf("field mac present without a mac in the request: %v", e.Data)
				}
			}
		})
	}
}

// TestAssetDiskImage: a .img is served as application/vnd.efi-img, the
// type UEFI HTTP Boot mounts as a RAM disk (boot.SecureBootImage).
func TestAssetDiskImage(t *testing.T) {
	f := newFixture(t)
	mustWrite(t, filepath.Join(f.dir, "secureboot", "httpboot.img"), "FAT")
	for _, method := range []string{"GET", "HEAD"} {
		w := f.do(method, "/assets/secureboot/httpboot.img", nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/vnd.efi-img" {
			t.Errorf("%s: status %d, Content-Type %q, want 200 application/vnd.efi-img", method, w.Code, w.Header().Get("Content-Type"))
		}
	}
}
