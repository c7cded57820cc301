package httpboot

import (
	"net/url"
	"strings"
	"testing"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/ipxe"
)

// FuzzScriptQuery sends arbitrary query strings to /ipxe: the answer is a
// 400 naming the bad parameter or a 200 iPXE script in which no query
// value starts a line of its own.
func FuzzScriptQuery(f *testing.F) {
	for _, s := range []string{"mac=52:54:00:00:00:10", "mac=52-54-00-00-00-11&item=custom", "mac=zz", "arch=7&rack=c&hostname=a%0Ashell",
		"rack=c&x=%7B%7B.Machine.MAC%7D%7D", "item=%00&mac=52:54:00:00:00:11", "%zz"} {
		f.Add(s)
	}
	fx := newRichFixture(f, nil)
	f.Fuzz(func(t *testing.T, raw string) {
		w := fx.do("GET", "/ipxe?"+url.PathEscape(raw), nil)
		switch w.Code {
		case 400:
			if !strings.HasPrefix(w.Body.String(), "bad ") {
				t.Errorf("400 without naming the parameter: %q", w.Body)
			}
		case 200:
			body := w.Body.String()
			if !strings.HasPrefix(body, "#!ipxe\n") {
				t.Fatalf("script without #!ipxe: %q", body)
			}
			for _, l := range strings.Split(body, "\n") {
				if f := strings.Fields(l); len(f) > 0 && !scriptWords[f[0]] && !strings.HasPrefix(f[0], ":") {
					t.Errorf("query value started a line: %q", l)
				}
			}
		default:
			t.Errorf("status %d for %q", w.Code, raw)
		}
		if _, err := parseRequest(mustQuery(raw)); err == nil && w.Code == 400 {
			t.Errorf("parseRequest accepts %q, the handler did not", raw)
		}
	})
}

// scriptWords are the commands rackboot's scripts (and the fixture's
// script template) start lines with.
var scriptWords = map[string]bool{"#!ipxe": true, "echo": true, "kernel": true, "initrd": true, "boot": true, "goto": true, "sleep": true,
	"chain": true, "imgfree": true, "menu": true, "item": true, "choose": true, "shell": true, "exit": true, "sanboot": true}

func mustQuery(raw string) url.Values {
	q, _ := url.ParseQuery(url.PathEscape(raw))
	return q
}

// FuzzCmdlineTemplate renders arbitrary cmdline templates with arbitrary
// label values: rendering may fail, but a script that renders keeps every
// value inside the kernel line.
func FuzzCmdlineTemplate(f *testing.F) {
	f.Add("console=ttyS0 host={{.Machine.Hostname}}", "a")
	f.Add("{{.Machine.Labels.x}}", "b\nshell")
	f.Add("{{range .Machine.Labels}}{{.}} {{end}}", "|| shell")
	f.Add("{{template \"x\"}}", "")
	f.Add("{{define \"x\"}}{{template \"x\"}}{{end}}{{template \"x\"}}", "")
	f.Fuzz(func(t *testing.T, cmdline, value string) {
		pr := &config.Profile{Name: "p", Kernel: "vmlinuz", Cmdline: cmdline}
		data := TemplateData{Machine: MachineData{Hostname: value, Labels: map[string]string{"x": value}}}
		script, err := ipxe.Render(ipxe.Params{
			BaseURL:  baseURL,
			Decision: boot.Decision{Profile: pr, Source: boot.SourceMachine},
			Cmdline:  func(pr *config.Profile) (string, error) { return renderCmdline(pr, data) },
		})
		if err != nil {
			return
		}
		lines := strings.Split(string(script), "\n")
		kernels := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "kernel ") {
				kernels++
			}
			if strings.HasPrefix(l, "shell") || strings.HasPrefix(l, "#") && l != "#!ipxe" {
				t.Errorf("rendered cmdline escaped its line: %q", l)
			}
		}
		if kernels != 1 {
			t.Errorf("%d kernel lines in:\n%s", kernels, script)
		}
	})
}
