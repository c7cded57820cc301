package httpboot

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rackboot/rackboot/internal/golden"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

// richMAC is a machine with hostname, ipv4 and labels, booting "install".
const (
	richMAC  = "52:54:00:00:00:10"
	menuMAC  = "52:54:00:00:00:11"
	chainMAC = "52:54:00:00:00:12"
	localMAC = "52:54:00:00:00:13"
	brokeMAC = "52:54:00:00:00:14"
)

// templates are the template files of the rich fixture's assets folder.
var templates = map[string]string{
	"tmpl/install.ipxe": `{{/* leading comment and blank line are dropped */}}
#!ipxe
echo custom script for {{.Machine.Hostname}} ({{.Machine.MAC}}) rack {{.Machine.Labels.rack}}
kernel {{.Server.BaseURL}}/assets/vmlinuz hostname={{.Machine.Hostname}}
boot
`,
	"tmpl/ignition.json": `{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/hostname","contents":{"source":"data:,{{.Machine.Hostname}}"}}]},` +
		`"x-rackboot":{"profile":"{{.Profile.Name}}","server":"{{.Server.Address}}:{{.Server.HTTPPort}}","tftp":{{.Server.TFTPPort}},"role":"{{index .Request.Query "role"}}"}}
`,
	"tmpl/cloud.yaml": `#cloud-config
hostname: {{.Machine.Hostname}}
fqdn: {{.Machine.Hostname}}.{{.Machine.Labels.rack}}.example
write_files:
  - path: /etc/rackboot
    content: "mac={{.Machine.MAC}} ipv4={{.Machine.IPv4}} profile={{.Profile.Name}} known={{.Machine.Known}}"
`,
	"tmpl/generic.txt": `{{range $k, $v := .Machine.Labels}}{{$k}}={{$v}}
{{end}}server={{.Server.BaseURL}} efi={{.Request.EFI}}
`,
	"tmpl/broken.txt":   "{{.Machine.Nope}}\n",
	"tmpl/notjson.json": "hostname: {{.Machine.Hostname}}\n",
	"tmpl/missing.txt":  "{{.Machine.Labels.absent}}\n",
}

// newRichFixture is a server over an inventory using every profile kind
// and every template key.
func newRichFixture(t testing.TB, signer *Signer) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "assets")
	mustWrite(t, filepath.Join(dir, "vmlinuz"), kernel)
	for name, body := range templates {
		mustWrite(t, filepath.Join(dir, filepath.FromSlash(name)), body)
	}
	log, hook := test.NewNullLogger()
	store := assets.New(dir, log).WithoutEmbedded().WithSystemDir(t.TempDir())
	inv := boot.NewInventory(richConfig(t))
	srv := New(Options{Inventory: func() *boot.Inventory { return inv }, Assets: store, BaseURL: baseURL, TFTPPort: 69, Signer: signer, Log: log})
	return &fixture{srv: srv, h: srv.Handler(), hook: hook, dir: dir}
}

// richConfig is the rich fixture's inventory, built like config.Parse
// would (derived fields filled).
func richConfig(t testing.TB) *config.Config {
	t.Helper()
	machine := func(mac, profile, host, ip string, labels map[string]string) config.Machine {
		hw, err := net.ParseMAC(mac)
		if err != nil {
			t.Fatal(err)
		}
		return config.Machine{MAC: mac, HWAddr: hw, Profile: profile, Hostname: host, IPv4: ip, Labels: labels}
	}
	return &config.Config{
		Profiles: map[string]config.Profile{
			"install": {Kernel: "vmlinuz", Initrd: []string{"base.img", "https://mirror.example.org/fw.img"},
				Cmdline:  "console=ttyS0 hostname={{.Machine.Hostname}} rack={{.Machine.Labels.rack}} ign={{.Server.BaseURL}}/ignition?mac={{.Machine.MAC}} tftp={{.Server.Address}}:{{.Server.TFTPPort}}",
				Ignition: "tmpl/ignition.json", CloudConfig: "tmpl/cloud.yaml", Generic: "tmpl/generic.txt"},
			"custom":    {Script: "tmpl/install.ipxe", Generic: "tmpl/broken.txt", Ignition: "tmpl/notjson.json", CloudConfig: "tmpl/missing.txt"},
			"elsewhere": {Chain: "http://192.0.2.9/boot.ipxe?mac=${mac}"},
			"disk":      {Local: true},
			"pick":      {Menu: &config.Menu{Title: "Pick", Items: []string{"install", "custom", "disk"}, Default: "disk", Timeout: config.Duration(5 * time.Second)}},
			"badtmpl":   {Kernel: "vmlinuz", Cmdline: "x={{.Machine.Nope}}"},
		},
		Machines: []config.Machine{
			machine(richMAC, "install", "node1", "192.0.2.50", map[string]string{"rack": "a", "role": "worker"}),
			machine(menuMAC, "pick", "node2", "", map[string]string{"rack": "b"}),
			machine(chainMAC, "elsewhere", "", "", nil),
			machine(localMAC, "disk", "", "", nil),
			machine(brokeMAC, "badtmpl", "", "", nil),
		},
		Groups: []config.Group{{Name: "rack-c", Selector: map[string]string{"rack": "c"}, Profile: "custom"}},
	}
}

// TestRenderedGolden renders every format over HTTP and compares it with
// testdata/NAME.golden (UPDATE_GOLDEN=1 rewrites them).
func TestRenderedGolden(t *testing.T) {
	tests := []struct {
		golden, target string
		status         int
		ctype          string
	}{
		{"ipxe_kernel_template_bios", "/ipxe?mac=" + richMAC + "&platform=pcbios", 200, "text/plain"},
		{"ipxe_kernel_template_efi", "/ipxe?mac=" + richMAC + "&platform=efi&rack=z", 200, "text/plain"},
		{"ipxe_script_by_label", "/ipxe?mac=52:54:00:99:00:01&hostname=web7&rack=c", 200, "text/plain"},
		{"ipxe_menu", "/ipxe?mac=" + menuMAC + "&platform=pcbios", 200, "text/plain"},
		{"ipxe_menu_item_script", "/ipxe?item=custom&mac=" + menuMAC + "&platform=pcbios", 200, "text/plain"},
		{"ipxe_chain", "/ipxe?mac=" + chainMAC, 200, "text/plain"},
		{"ipxe_local", "/ipxe?mac=" + localMAC + "&platform=pcbios", 200, "text/plain"},
		{"ipxe_unknown", "/ipxe?mac=52:54:00:99:99:99&uuid=4c4c4544-0000-0000-0000-000000000000&serial=SN1", 200, "text/plain"},
		{"ipxe_template_error", "/ipxe?mac=" + brokeMAC, 200, "text/plain"},
		{"entry", "/boot.ipxe", 200, "text/plain"},
		{"ignition", "/ignition?mac=" + richMAC + "&role=db", 200, "application/json"},
		{"cloud_config", "/cloud-config?mac=" + richMAC, 200, "text/plain"},
		{"generic", "/generic?mac=" + richMAC + "&arch=7", 200, "text/plain"},
		{"metadata", "/metadata?mac=" + richMAC + "&os=flatcar&bad-key.x=v%0Ainjected%3D1", 200, "text/plain"},
		{"pixiecore", "/v1/boot/" + richMAC, 200, "application/json"},
	}
	f := newRichFixture(t, nil)
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			w := f.do("GET", tt.target, nil)
			if w.Code != tt.status {
				t.Errorf("status (-want +got):\n-%d\n+%d\nbody: %s", tt.status, w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type (-want +got):\n-%s\n+%s", tt.ctype, ct)
			}
			checkGolden(t, tt.golden, w.Body.Bytes())
		})
	}
}

// checkGolden compares got with testdata/NAME.golden.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

// TestConfigEndpoints covers the statuses of the config service and
// pixiecore API: bad queries, unknown machines, missing templates and
// template errors.
func TestConfigEndpoints(t *testing.T) {
	tests := []struct {
		name, target string
		status       int
		body         string
		logged       string // an error log line must contain this
	}{
		{"ignition bad mac", "/ignition?mac=nope", 400, `bad mac parameter "nope"`, ""},
		{"ignition unknown machine", "/ignition?mac=52:54:00:99:99:99", 404, "no machine entry, no group matched", ""},
		{"ignition no template", "/ignition?mac=" + localMAC, 404, "profile disk has no ignition template", ""},
		{"ignition not json", "/ignition?mac=52:54:00:99:00:01&rack=c", 500, "rendering the ignition template of profile custom failed", "did not render valid JSON"},
		{"generic template error", "/generic?mac=52:54:00:99:00:01&rack=c", 500, "rendering the generic template", "can't evaluate field Nope"},
		{"cloud-config missing label", "/cloud-config?mac=52:54:00:99:00:01&rack=c", 500, "rendering the cloud-config template", `map has no entry for key "absent"`},
		{"cloud-config bad arch", "/cloud-config?mac=" + richMAC + "&arch=-1", 400, `bad arch parameter "-1"`, ""},
		{"menu item config", "/generic?mac=" + menuMAC + "&item=install", 200, "rack=b", ""},
		{"item not in menu", "/generic?mac=" + menuMAC + "&item=elsewhere", 404, `item "elsewhere" is not one of the items of menu pick`, ""},
		{"item without menu", "/ipxe?mac=" + richMAC + "&item=disk", 200, "profile install is not a menu", ""},
		{"metadata unknown", "/metadata?mac=52:54:00:99:99:99", 404, "no machine or profile", ""},
		{"metadata bad mac", "/metadata?mac=1", 400, "bad mac parameter", ""},
		{"pixiecore unknown", "/v1/boot/52:54:00:99:99:99", 404, "no boot for 52:54:00:99:99:99", ""},
		{"pixiecore not kernel", "/v1/boot/" + localMAC, 404, "profile disk is not a kernel profile", ""},
		{"pixiecore bad mac", "/v1/boot/zz", 400, `bad MAC address "zz"`, ""},
		{"pixiecore template error", "/v1/boot/" + brokeMAC, 500, "rendering profile badtmpl failed", "can't evaluate field Nope"},
		{"pixiecore empty", "/v1/boot/", 404, "404 page not found", ""},
		{"signature without key", "/ipxe.sig?mac=" + richMAC, 404, "signatures are off", ""},
		{"signature of error stays error", "/ignition.asc?mac=nope", 400, "bad mac parameter", ""},
		{"post config", "/ignition", 405, "method not allowed", ""},
	}
	f := newRichFixture(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.hook.Reset()
			method := "GET"
			if strings.HasPrefix(tt.name, "post") {
				method = "POST"
			}
			w := f.do(method, tt.target, nil)
			if w.Code != tt.status {
				t.Errorf("status (-want +got):\n-%d\n+%d\nbody: %s", tt.status, w.Code, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body lacks %q:\n%s", tt.body, w.Body)
			}
			if tt.logged != "" && !loggedError(f.hook, tt.logged) {
				t.Errorf("no error log line containing %q: %v", tt.logged, f.hook.AllEntries())
			}
		})
	}
}

// loggedError reports whether an Error entry's error contains s.
func loggedError(h *test.Hook, s string) bool {
	for _, e := range h.AllEntries() {
		if err, ok := e.Data[logrus.ErrorKey].(error); ok && e.Level == logrus.ErrorLevel && strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func TestTemplateDataServer(t *testing.T) {
	s := New(Options{BaseURL: "http://192.0.2.1:8080/", TFTPPort: 6969})
	got := s.serverData()
	want := ServerData{Address: "192.0.2.1", HTTPPort: 8080, TFTPPort: 6969, BaseURL: "http://192.0.2.1:8080"}
	if got != want {
		t.Errorf("serverData (-want +got):\n-%+v\n+%+v", want, got)
	}
}

func TestAssetConditional(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", "/assets/vmlinuz", nil)
	tag := w.Header().Get("ETag")
	if tag == "" || !strings.HasPrefix(tag, `"`) {
		t.Fatalf("ETag = %q, want a quoted strong validator", tag)
	}
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
		body   string
	}{
		{"if-none-match same", map[string]string{"If-None-Match": tag}, 304, ""},
		{"if-none-match other", map[string]string{"If-None-Match": `"other"`}, 200, kernel},
		{"if-range same", map[string]string{"Range": "bytes=0-3", "If-Range": tag}, 206, kernel[:4]},
		{"if-range stale", map[string]string{"Range": "bytes=0-3", "If-Range": `"old"`}, 200, kernel},
		{"range past end", map[string]string{"Range": "bytes=100-"}, 416, ""},
		{"if-modified-since old", map[string]string{"If-Modified-Since": time.Unix(0, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")}, 200, kernel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", "/assets/vmlinuz", tt.hdr)
			if w.Code != tt.status {
				t.Errorf("status (-want +got):\n-%d\n+%d", tt.status, w.Code)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body (-want +got):\n-%q\n+%q", tt.body, w.Body)
			}
		})
	}
}

func TestDoubleEncodedTraversal(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/assets/%252e%252e/secret", "/assets/%252e%252e%252fsecret", "/assets/debian/%252E%252E/%252E%252E/secret"} {
		w := f.do("GET", target, nil)
		if w.Code != 403 || strings.Contains(w.Body.String(), secret) {
			t.Errorf("GET %s: status %d (want 403)", target, w.Code)
		}
	}
}

func TestMACBookBounded(t *testing.T) {
	b := newMACBook(2)
	b.remember("10.0.0.1:1", "a")
	b.remember("10.0.0.2:1", "b")
	b.remember("10.0.0.2:9", "c") // same host, replaces
	if got := b.lookup("10.0.0.2:5"); got != "c" {
		t.Errorf("lookup (-want +got):\n-c\n+%s", got)
	}
	b.remember("10.0.0.3:1", "d") // full: starts again
	if len(b.byIP) != 1 || b.lookup("10.0.0.3:1") != "d" || b.lookup("10.0.0.1:1") != "" {
		t.Errorf("book after overflow = %v, want only 10.0.0.3", b.byIP)
	}
}

// TestCmdlineForPXELINUX: the command line PXELINUX configs get is the
// profile's cmdline rendered as a template, as docs/inventory.md says, with
// the machine's inventory entry.
func TestCmdlineForPXELINUX(t *testing.T) {
	s := New(Options{BaseURL: "http://192.0.2.1:8080"})
	d := boot.Decision{
		Profile: &config.Profile{Name: "p", Kernel: "vmlinuz", Cmdline: "hostname={{.Machine.Hostname}} srv={{.Server.Address}}"},
		Machine: &config.Machine{MAC: "52:54:00:00:00:01", HWAddr: net.HardwareAddr{0x52, 0x54, 0, 0, 0, 1}, Hostname: "node1"},
	}
	got, err := s.Cmdline(d)
	if want := "hostname=node1 srv=192.0.2.1"; err != nil || got != want {
		t.Errorf("Cmdline = %q, %v; want %q", got, err, want)
	}
}
