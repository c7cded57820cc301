package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// httpTree makes an assets folder with one template, a symlink out of the
// folder and a signing key file beside it; it returns the folder and key.
func httpTree(t *testing.T) (assets, key string) {
	t.Helper()
	root := t.TempDir()
	assets = filepath.Join(root, "assets")
	key = filepath.Join(root, "key.asc")
	for name, body := range map[string]string{
		filepath.Join(assets, "tmpl", "ign.json"): "{}",
		filepath.Join(root, "outside.txt"):        "x",
		key:                                       "-----BEGIN PGP PRIVATE KEY BLOCK-----",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "outside.txt"), filepath.Join(assets, "out.txt")); err != nil {
		t.Fatal(err)
	}
	return assets, key
}

func TestHTTPKeysValid(t *testing.T) {
	assets, key := httpTree(t)
	cfg := mustParse(t, fmt.Sprintf(`
server: {assets: %q, signing_key: %q}
profiles:
  a: {chain: "http://192.0.2.9/boot.ipxe?mac=${mac}"}
  b: {script: tmpl/ign.json, ignition: tmpl/ign.json, cloud_config: tmpl/ign.json, generic: tmpl/ign.json}
  c: {local: true, ignition: tmpl/ign.json}
`, assets, key))
	if p := cfg.Profiles["b"]; p.Script != "tmpl/ign.json" || p.CloudConfig != "tmpl/ign.json" || cfg.Server.SigningKey != key {
		t.Errorf("decoded %+v %+v", p, cfg.Server)
	}
}

func TestHTTPKeysErrors(t *testing.T) {
	assets, _ := httpTree(t)
	head := fmt.Sprintf("server: {assets: %q}\nprofiles:\n", assets)
	tests := []struct{ name, src, want string }{
		{"chain and kernel", "  p: {chain: http://h/x, kernel: vmlinuz}",
			`x.yaml:3: profiles.p: kernel, chain are all set; use exactly one of kernel, local, shell, menu, chain or script`},
		{"chain ftp", "  p: {chain: ftp://h/x}", `x.yaml:3: profiles.p.chain: "ftp://h/x" is not an http://, https:// or tftp:// URL`},
		{"chain relative", "  p: {chain: boot.ipxe}", `x.yaml:3: profiles.p.chain: "boot.ipxe" is not an http://, https:// or tftp:// URL`},
		{"chain space", `  p: {chain: "http://h/a b"}`, `x.yaml:3: profiles.p.chain: "http://h/a b" contains spaces or control characters; escape them (%20)`},
		{"script missing", "  p: {script: tmpl/nope.ipxe}", "x.yaml:3: profiles.p.script: file " + filepath.Join(assets, "tmpl", "nope.ipxe") + " does not exist"},
		{"ignition absolute", "  p: {local: true, ignition: /etc/passwd}", `x.yaml:3: profiles.p.ignition: "/etc/passwd" is an absolute path; give a path relative to server.assets`},
		{"generic dotdot", "  p: {local: true, generic: ../x}", `x.yaml:3: profiles.p.generic: "../x" contains ".."`},
		{"cloud_config symlink out", "  p: {local: true, cloud_config: out.txt}", "x.yaml:3: profiles.p.cloud_config: file " + filepath.Join(assets, "out.txt") + " leads out of server.assets"},
		{"cloud_config folder", "  p: {local: true, cloud_config: tmpl}", "x.yaml:3: profiles.p.cloud_config: " + filepath.Join(assets, "tmpl") + " is not a regular file"},
		{"script url", "  p: {script: http://h/x}", `x.yaml:3: profiles.p.script: "http://h/x" is a URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrors(t, head+tt.src+"\n"); !strings.Contains(got, tt.want) {
				t.Errorf("errors:\n%s\nwant them to include:\n%s", got, tt.want)
			}
		})
	}
}

func TestHTTPKeysNeedAssets(t *testing.T) {
	got := parseErrors(t, "profiles:\n  p: {local: true, ignition: a.json}\n")
	want := `x.yaml:2: profiles.p.ignition: "a.json" is a file in the assets folder, but server.assets is not set`
	if got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}

func TestSigningKeyUnreadable(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, key, want string }{
		{"missing", filepath.Join(dir, "none.asc"), "x.yaml:1: server.signing_key: cannot read " + filepath.Join(dir, "none.asc")},
		{"folder", dir, "x.yaml:1: server.signing_key: " + dir + " is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrors(t, fmt.Sprintf("server: {signing_key: %q}\n", tt.key)); !strings.HasPrefix(got, tt.want) {
				t.Errorf("errors:\n%s\nwant prefix:\n%s", got, tt.want)
			}
		})
	}
}
