package config

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustParse parses src, failing the test on any error.
func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestParseExample(t *testing.T) {
	cfg, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.File != "testdata/example.yaml" {
		t.Errorf("File = %q", cfg.File)
	}
	if want := netip.MustParseAddr("192.0.2.1"); cfg.Server.Addr != want {
		t.Errorf("Server.Addr = %v, want %v", cfg.Server.Addr, want)
	}
	if cfg.Server.Interface != "br0" || cfg.Server.Assets != "./assets" || cfg.Server.HTTPPort != 8080 {
		t.Errorf("Server = %+v", cfg.Server)
	}
	s := cfg.DHCP.Subnets[0]
	wantSubnet := Subnet{
		CIDR: "192.0.2.0/24", Range: "192.0.2.100-192.0.2.200", Router: "192.0.2.1",
		DNS: []string{"192.0.2.1"}, LeaseTime: Duration(time.Hour),
		Prefix:     netip.MustParsePrefix("192.0.2.0/24"),
		RangeStart: netip.MustParseAddr("192.0.2.100"),
		RangeEnd:   netip.MustParseAddr("192.0.2.200"),
		RouterAddr: netip.MustParseAddr("192.0.2.1"),
		DNSAddrs:   []netip.Addr{netip.MustParseAddr("192.0.2.1")},
		Pools:      []AddrRange{{netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("192.0.2.200")}},
	}
	if !reflect.DeepEqual(s, wantSubnet) {
		t.Errorf("subnet =\n%+v\nwant\n%+v", s, wantSubnet)
	}
	wantProfile := Profile{Name: "demo", Kernel: "vmlinuz", Initrd: []string{"initrd.gz"}, Cmdline: "console=ttyS0 panic=-1"}
	if p := cfg.Profiles["demo"]; !reflect.DeepEqual(p, wantProfile) {
		t.Errorf("profile = %+v, want %+v", p, wantProfile)
	}
	m := cfg.Machines[0]
	if m.HWAddr.String() != "52:54:00:12:34:56" || m.Addr != netip.MustParseAddr("192.0.2.50") ||
		m.Hostname != "node1" || m.Profile != "demo" || m.Labels["rack"] != "a" {
		t.Errorf("machine = %+v", m)
	}
	g := cfg.Groups[0]
	if g.Name != "rack-a" || g.Profile != "demo" || !reflect.DeepEqual(g.Selector, map[string]string{"rack": "a"}) {
		t.Errorf("group = %+v", g)
	}
	if cfg.DefaultProfile != "demo" {
		t.Errorf("DefaultProfile = %q", cfg.DefaultProfile)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg := mustParse(t, `
dhcp:
  subnets:
    - cidr: 10.0.0.7/8
profiles:
  m:
    menu: {items: [l]}
  l: {local: true}
`)
	s := cfg.Server
	if s.HTTPPort != 8080 || s.TFTPPort != 69 || s.DataDir != "/var/lib/rackboot" || s.Assets != "" || s.Addr.IsValid() {
		t.Errorf("server defaults = %+v", s)
	}
	if cfg.DHCP.Mode != ModeFull {
		t.Errorf("dhcp.mode = %q, want full", cfg.DHCP.Mode)
	}
	sub := cfg.DHCP.Subnets[0]
	if sub.LeaseTime != Duration(time.Hour) {
		t.Errorf("lease_time = %v, want 1h", sub.LeaseTime)
	}
	if sub.Prefix != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("Prefix = %v, want it masked to 10.0.0.0/8", sub.Prefix)
	}
	if sub.RangeStart.IsValid() || sub.RouterAddr.IsValid() {
		t.Errorf("absent range/router filled: %+v", sub)
	}
	if got := cfg.Profiles["m"].Menu.Timeout; got != Duration(10*time.Second) {
		t.Errorf("menu timeout = %v, want 10s", got)
	}
}

func TestDefault(t *testing.T) {
	cfg := Default()
	if cfg.File != "(embedded default)" || cfg.DHCP.Mode != ModeFull || len(cfg.DHCP.Subnets) != 0 || cfg.DefaultProfile != "menu" {
		t.Errorf("Default() = %+v", cfg)
	}
	if !cfg.Profiles["local"].Local || !cfg.Profiles["shell"].Shell {
		t.Errorf("profiles = %+v", cfg.Profiles)
	}
	want := &Menu{Title: "rackboot", Items: []string{"local", "shell"}, Default: "local", Timeout: Duration(10 * time.Second)}
	if got := cfg.Profiles["menu"].Menu; !reflect.DeepEqual(got, want) {
		t.Errorf("menu = %+v, want %+v", got, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load missing file: %v, want not-exist error", err)
	}
}

func TestErrorsType(t *testing.T) {
	_, err := Parse("x.yaml", []byte("server:\n  http_port: 0\ndefault_profile: nope\n"))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("err = %#v, want Errors with 2 entries", err)
	}
	want := Error{File: "x.yaml", Line: 2, Path: "server.http_port", Msg: "0 is not a port number (1-65535)"}
	if *errs[0] != want {
		t.Errorf("errs[0] = %+v, want %+v", *errs[0], want)
	}
	if errs[1].Line != 3 || errs[1].Path != "default_profile" {
		t.Errorf("errs[1] = %+v", *errs[1])
	}
}

// parseErrors parses src and returns its error text, one error a line.
func parseErrors(t *testing.T, src string) string {
	t.Helper()
	cfg, err := Parse("x.yaml", []byte(strings.TrimPrefix(src, "\n")))
	if err == nil {
		t.Fatalf("Parse succeeded: %+v", cfg)
	}
	if cfg != nil {
		t.Errorf("Parse returned a Config with an error")
	}
	return err.Error()
}

// TestBootChoices checks loader and boot_method values.
func TestBootChoices(t *testing.T) {
	base := "server: {assets: /srv}\nprofiles:\n  p:\n    kernel: vmlinuz\n"
	tests := []struct{ extra, want string }{
		{"    loader: pxelinux\n", ""},
		{"    loader: grub\n", ""},
		{"    loader: auto\n", ""},
		{"    loader: shim\n", `x.yaml:5: profiles.p.loader: "shim" is not a loader; use "ipxe", "pxelinux", "grub" or "auto"`},
		{"    boot_method: http\n", ""},
		{"    boot_method: nfs\n", `x.yaml:5: profiles.p.boot_method: "nfs" is not a boot method; use "pxe" (TFTP) or "http" (UEFI HTTP Boot)`},
	}
	for _, tt := range tests {
		_, err := Parse("x.yaml", []byte(base+tt.extra))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%q: error = %q, want %q", tt.extra, got, tt.want)
		}
	}
	_, err := Parse("x.yaml", []byte("profiles:\n  p: {local: true, loader: pxelinux}\n"))
	if err == nil || !strings.Contains(err.Error(), "pxelinux needs a kernel profile") {
		t.Errorf("pxelinux on a local profile: error = %v", err)
	}
}
