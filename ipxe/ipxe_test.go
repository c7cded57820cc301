package ipxe

import (
	"bytes"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rackboot/rackboot/internal/golden"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

const base = "http://10.0.0.1:8080"

// testProfiles is the profile set the golden tests render from.
func testProfiles() map[string]config.Profile {
	return map[string]config.Profile{
		"debian": {
			Kernel:  "debian/linux",
			Initrd:  []string{"debian/initrd.gz", "firmware/fw.cpio"},
			Cmdline: "console=ttyS0,115200 auto=true url=http://10.0.0.1:8080/assets/preseed.cfg",
		},
		"remote": {
			Kernel:  "https://mirror.example.org/boot/vmlinuz?v=1",
			Initrd:  []string{"https://mirror.example.org/boot/initrd.img"},
			Cmdline: "ip=dhcp BOOTIF=${mac}",
		},
		"disk":   {Local: true},
		"shell":  {Shell: true},
		"choose": {Menu: &config.Menu{Title: "Pick a system", Items: []string{"debian", "disk", "shell"}, Default: "disk", Timeout: config.Duration(10 * time.Second)}},
		"nested": {Menu: &config.Menu{Title: "Nested", Items: []string{"choose"}}},
		"other":  {Chain: "http://192.0.2.9/boot.ipxe?mac=${mac}"},
		"custom": {Script: "scripts/custom.ipxe.tmpl"},
		"more":   {Menu: &config.Menu{Title: "More", Items: []string{"other", "custom", "templated"}, Default: "custom"}},
		"templated": {
			Kernel:  "vmlinuz",
			Initrd:  []string{"a.img", "b.img"},
			Cmdline: "hostname={{.Machine.Hostname}}",
		},
	}
}

// lookup returns a Profiles function over ps.
func lookup(ps map[string]config.Profile) func(string) *config.Profile {
	return func(name string) *config.Profile {
		p, ok := ps[name]
		if !ok {
			return nil
		}
		p.Name = name
		return &p
	}
}

// decide returns a Decision for the named profile.
func decide(ps map[string]config.Profile, name string) boot.Decision {
	return boot.Decision{Profile: lookup(ps)(name), Source: boot.SourceMachine}
}

func TestRenderGolden(t *testing.T) {
	ps := testProfiles()
	tests := []struct {
		golden string
		p      Params
	}{
		{"kernel_bios", Params{BaseURL: base, Decision: decide(ps, "debian")}},
		{"kernel_efi", Params{BaseURL: base, EFI: true, Decision: decide(ps, "debian")}},
		{"kernel_url", Params{BaseURL: base + "/", EFI: true, Decision: decide(ps, "remote")}},
		{"local_bios", Params{BaseURL: base, Decision: decide(ps, "disk")}},
		{"local_efi", Params{BaseURL: base, EFI: true, Decision: decide(ps, "disk")}},
		{"shell", Params{BaseURL: base, Decision: decide(ps, "shell")}},
		{"menu", Params{BaseURL: base, Decision: decide(ps, "choose"), Profiles: lookup(ps)}},
		{"chain", Params{BaseURL: base, Decision: decide(ps, "other")}},
		{"script", Params{BaseURL: base, Decision: decide(ps, "custom"), Script: fakeScript}},
		{"kernel_cmdline_template_efi", Params{BaseURL: base, EFI: true, Decision: decide(ps, "templated"), Cmdline: fakeCmdline}},
		{"menu_kinds", Params{BaseURL: base, Decision: decide(ps, "more"), Profiles: lookup(ps), Cmdline: fakeCmdline,
			Query: url.Values{"mac": {"52:54:00:12:34:56"}, "rack": {"a b&c"}, "item": {"ignored"}}}},
		{"no_match", Params{BaseURL: base, Decision: boot.Decision{Reason: "no machine entry, no group matched and no default_profile is set (saw mac=52:54:00:aa:bb:cc platform=efi)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := Render(tt.p)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			checkGolden(t, tt.golden, got)
		})
	}
}

// fakeScript stands in for the server's template rendering of a script
// profile: it returns a script naming the template, after blank lines that
// Render must drop.
func fakeScript(pr *config.Profile) ([]byte, error) {
	return []byte("\n\n#!ipxe\necho custom script from " + pr.Script + "\nexit\n"), nil
}

// fakeCmdline stands in for the server's template rendering of cmdline.
func fakeCmdline(pr *config.Profile) (string, error) {
	return strings.ReplaceAll(pr.Cmdline, "{{.Machine.Hostname}}", "node1") + " console=ttyS0", nil
}

func TestRenderKindErrors(t *testing.T) {
	ps := testProfiles()
	tests := []struct {
		name string
		p    Params
		want string
	}{
		{"script without renderer", Params{BaseURL: base, Decision: decide(ps, "custom")}, "need a script renderer"},
		{"script without magic", Params{BaseURL: base, Decision: decide(ps, "custom"),
			Script: func(*config.Profile) ([]byte, error) { return []byte("echo hi\n"), nil }}, "does not start with #!ipxe"},
		{"script error", Params{BaseURL: base, Decision: decide(ps, "custom"),
			Script: func(*config.Profile) ([]byte, error) { return nil, errors.New("boom") }}, "boom"},
		{"chain with space", Params{BaseURL: base, Decision: boot.Decision{Profile: &config.Profile{Name: "c", Chain: "http://h/a b"}}}, "one word"},
		{"chain with separator", Params{BaseURL: base, Decision: boot.Decision{Profile: &config.Profile{Name: "c", Chain: `http://h/x\`}}}, "would end"},
		{"cmdline injection", Params{BaseURL: base, Decision: decide(ps, "templated"),
			Cmdline: func(*config.Profile) (string, error) { return "a || shell", nil }}, "would end the iPXE command"},
		{"cmdline error", Params{BaseURL: base, Decision: decide(ps, "templated"),
			Cmdline: func(*config.Profile) (string, error) { return "", errors.New("no label x") }}, "no label x"},
		{"two kinds", Params{BaseURL: base, Decision: boot.Decision{Profile: &config.Profile{Name: "c", Chain: "http://h/", Local: true}}}, "exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render error (-want +got):\n-...%s...\n+%v", tt.want, err)
			}
		})
	}
}

func TestEntryScriptGolden(t *testing.T) {
	checkGolden(t, "entry", EntryScript(base+"/"))
}

// checkGolden compares got with testdata/NAME.ipxe and checks that it is a
// well-formed script.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".ipxe"), got)
	checkWellFormed(t, got)
}

// checkWellFormed checks properties every script must have: the magic
// line, no line continuation, and a label for every static goto.
func checkWellFormed(t *testing.T, script []byte) {
	t.Helper()
	if !bytes.HasPrefix(script, []byte("#!ipxe\n")) {
		t.Errorf("script does not start with #!ipxe")
	}
	labels := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(string(script), "\n"), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, ":") {
			labels[strings.TrimPrefix(l, ":")] = true
		}
		if strings.HasSuffix(l, `\`) || strings.ContainsAny(l, "\r\x00") {
			t.Errorf("unsafe line %q", l)
		}
	}
	for _, l := range lines {
		toks := strings.Fields(l)
		for i, tok := range toks {
			if tok == "goto" && i+1 < len(toks) && !strings.Contains(toks[i+1], "${") && !labels[toks[i+1]] {
				t.Errorf("goto %s: no such label", toks[i+1])
			}
		}
	}
}

// commands returns the command word of each non-label, non-comment line.
func commands(script []byte) []string {
	var out []string
	for _, l := range strings.Split(string(script), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], ":") || strings.HasPrefix(f[0], "#") {
			continue
		}
		out = append(out, f[0])
	}
	return out
}

func TestRenderEFIInitrdArg(t *testing.T) {
	tests := []struct {
		name    string
		efi     bool
		cmdline string
		want    string
	}{
		{"bios", false, "quiet", "kernel http://10.0.0.1:8080/assets/vmlinuz quiet || goto p-k/kernel-retry"},
		{"efi", true, "quiet", "kernel http://10.0.0.1:8080/assets/vmlinuz quiet initrd=initrd.img initrd=extra.cpio || goto p-k/kernel-retry"},
		{"efi explicit", true, "initrd=initrd.img quiet", "kernel http://10.0.0.1:8080/assets/vmlinuz initrd=initrd.img quiet || goto p-k/kernel-retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := &config.Profile{Name: "k", Kernel: "vmlinuz", Initrd: []string{"initrd.img", "x/extra.cpio"}, Cmdline: tt.cmdline}
			got, err := Render(Params{BaseURL: base, EFI: tt.efi, Decision: boot.Decision{Profile: pr}})
			if err != nil {
				t.Fatal(err)
			}
			var line string
			for _, l := range strings.Split(string(got), "\n") {
				if strings.HasPrefix(l, "kernel ") {
					line = l
				}
			}
			if diff := diff(tt.want, line); diff != "" {
				t.Errorf("kernel line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderAssetPathEscaped(t *testing.T) {
	pr := &config.Profile{Name: "k", Kernel: "my images/vmlinuz#1", Initrd: []string{"a b/in${x}.img"}}
	got, err := Render(Params{BaseURL: base, EFI: true, Decision: boot.Decision{Profile: pr}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kernel http://10.0.0.1:8080/assets/my%20images/vmlinuz%231 initrd=initrd0 ",
		"initrd --name initrd0 http://10.0.0.1:8080/assets/a%20b/in$%7Bx%7D.img ",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
}

func TestRenderRejectsInjection(t *testing.T) {
	tests := []struct {
		name string
		pr   config.Profile
	}{
		{"newline in cmdline", config.Profile{Kernel: "vmlinuz", Cmdline: "quiet\nshell"}},
		{"carriage return in cmdline", config.Profile{Kernel: "vmlinuz", Cmdline: "quiet\rshell"}},
		{"or in cmdline", config.Profile{Kernel: "vmlinuz", Cmdline: "quiet || shell"}},
		{"and in cmdline", config.Profile{Kernel: "vmlinuz", Cmdline: "quiet && shell"}},
		{"semicolon in cmdline", config.Profile{Kernel: "vmlinuz", Cmdline: "quiet ; shell"}},
		{"comment in cmdline", config.Profile{Kernel: "vmlinuz", Cmdline: "quiet #x"}},
		{"continuation in cmdline", config.Profile{Kernel: "vmlinuz", Cmdline: `quiet \`}},
		{"space in kernel URL", config.Profile{Kernel: "http://x/a b"}},
		{"newline in kernel URL", config.Profile{Kernel: "http://x/a\nshell"}},
		{"traversal in kernel", config.Profile{Kernel: "../etc/passwd"}},
		{"tftp kernel", config.Profile{Kernel: "tftp://x/vmlinuz"}},
		{"two kinds", config.Profile{Kernel: "vmlinuz", Local: true}},
		{"no kind", config.Profile{}},
		{"nested menu", config.Profile{Menu: &config.Menu{Items: []string{"nested"}}}},
		{"unknown item", config.Profile{Menu: &config.Menu{Items: []string{"nope"}}}},
		{"bad default", config.Profile{Menu: &config.Menu{Items: []string{"disk"}, Default: "shell"}}},
	}
	ps := testProfiles()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := tt.pr
			pr.Name = "p"
			got, err := Render(Params{BaseURL: base, Decision: boot.Decision{Profile: &pr}, Profiles: lookup(ps)})
			if err == nil {
				t.Fatalf("Render succeeded, want an error; script:\n%s", got)
			}
		})
	}
}

func TestRenderNewlineCannotAddCommand(t *testing.T) {
	pr := &config.Profile{Name: "k", Kernel: "vmlinuz", Cmdline: "quiet\nshell"}
	if _, err := Render(Params{BaseURL: base, Decision: boot.Decision{Profile: pr}}); err == nil {
		t.Fatal("Render accepted a cmdline with a newline")
	}
	// The error is then shown with NoProfile; its text must stay inert too.
	reason := "bad cmdline \"quiet\nshell\" || shell ; shell && shell #x ${ip} \\"
	got := NoProfile(base, reason)
	want := []string{"echo", "echo", "echo", "sleep", "chain", "goto"}
	if diff := diff(strings.Join(want, " "), strings.Join(commands(got), " ")); diff != "" {
		t.Errorf("commands (-want +got):\n%s\nscript:\n%s", diff, got)
	}
	checkWellFormed(t, got)
	if strings.Contains(string(got), "${ip}") {
		t.Errorf("reason's ${ip} left expandable:\n%s", got)
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a\nb\tc", "a?b?c"},
		{"x || y && z ; w", "x '||' y '&&' z ';' w"},
		{"#1 is ${mac}", "'#1' is $ {mac}"},
		{`ends \`, `ends '\'`},
		{"héllo", "h?llo"},
	}
	for _, tt := range tests {
		if diff := diff(tt.want, Text(tt.in)); diff != "" {
			t.Errorf("Text(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func diff(want, got string) string { return golden.Diff(want, got) }
