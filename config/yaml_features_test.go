package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestAliasesAndMergeKeys(t *testing.T) {
	cfg := mustParse(t, `
profiles:
  demo: {local: true}
machines:
  - &base
    mac: 52:54:00:00:00:01
    profile: demo
    labels: &rack {rack: a}
  - <<: *base
    mac: 52:54:00:00:00:02
  - mac: 52:54:00:00:00:03
    labels: *rack
`)
	if len(cfg.Machines) != 3 {
		t.Fatalf("machines = %+v", cfg.Machines)
	}
	m := cfg.Machines[1]
	if m.HWAddr.String() != "52:54:00:00:00:02" || m.Profile != "demo" || m.Labels["rack"] != "a" {
		t.Errorf("merged machine = %+v", m)
	}
	if cfg.Machines[2].Labels["rack"] != "a" {
		t.Errorf("aliased labels = %+v", cfg.Machines[2].Labels)
	}
}

func TestMergeErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown key through merge", "machines:\n  - &m {mac: 52:54:00:00:00:01}\n  - <<: [*m, {macc: 2}]\n",
			`x.yaml:3: machines[1].macc: unknown key (did you mean "mac"?)`},
		{"self merge", "profiles:\n  a: &a\n    <<: *a\n    local: true\n", `x.yaml:3: profiles.a: << merges a mapping into itself`},
		{"merge scalar", "profiles:\n  a:\n    <<: 1\n    local: true\n", `x.yaml:3: profiles.a: << must merge a mapping or a list of mappings, got "1"`},
		{"self alias", "profiles: &p\n  a: *p\n",
			`x.yaml:2: profiles.a.a: unknown key (known keys: boot_method, chain, cloud_config, cmdline, generic, ignition, initrd, kernel, loader, local, menu, script, shell)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrors(t, tt.src); got != tt.want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestQuotedPath(t *testing.T) {
	got := parseErrors(t, "profiles:\n  ubuntu-24.04:\n    kernel: http://h/k\n    initrd: [\"\"]\n")
	want := `x.yaml:4: profiles["ubuntu-24.04"].initrd[0]: must not be empty`
	if got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}

func TestProxyModeIgnoresSubnetsForAddresses(t *testing.T) {
	mustParse(t, `
dhcp:
  mode: proxy
  subnets: [{cidr: 10.0.0.0/24}]
machines:
  - mac: 52:54:00:00:00:01
    ipv4: 192.168.1.5
`)
}

func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &l {")
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&b, "k%d: v, ", i)
	}
	b.WriteString("}\nmachines:\n")
	for i := 0; i < 600; i++ {
		b.WriteString("  - {mac: 52:54:00:00:00:01, labels: *l}\n")
	}
	got := parseErrors(t, b.String())
	want := "x.yaml:1: document expands to more than 262144 nodes through aliases"
	if !strings.Contains(got, want) {
		t.Errorf("errors:\n%.500s\nwant them to include:\n%s", got, want)
	}
}
