package config

import (
	"strings"
	"testing"
)

// TestGRUBValid: kernel, local and menu profiles boot through GRUB, and
// machines and groups may say loader and secure_boot.
func TestGRUBValid(t *testing.T) {
	cfg := mustParse(t, `
server: {assets: /srv}
profiles:
  k: {kernel: debian/vmlinuz, initrd: [debian/initrd.gz, fw.cpio], cmdline: "console=ttyS0 x=${mac}", loader: grub}
  disk: {local: true, loader: grub}
  m: {menu: {items: [k, disk], default: k}, loader: grub}
  any: {kernel: vmlinuz}
  web: {kernel: "http://h/vmlinuz", loader: auto}
machines:
  - {mac: "52:54:00:00:00:01", profile: any, loader: grub, secure_boot: true}
  - {mac: "52:54:00:00:00:02", profile: any, secure_boot: true}
  - {mac: "52:54:00:00:00:03", profile: web, loader: ipxe}
groups:
  - {name: sb, selector: {rack: a}, profile: k, secure_boot: true}
`)
	if m := cfg.Machines[0]; m.Loader != LoaderGRUB || !m.SecureBoot {
		t.Errorf("machine 0 decoded as %+v", m)
	}
	if !cfg.Groups[0].SecureBoot {
		t.Errorf("group decoded as %+v", cfg.Groups[0])
	}
}

// TestGRUBErrors: every profile or machine that cannot boot through the
// signed chain is refused at its own line, with the reason.
func TestGRUBErrors(t *testing.T) {
	head := "server: {assets: /srv}\nprofiles:\n"
	tests := []struct{ name, src, want string }{
		{"http kernel", "  p: {kernel: \"http://h/vmlinuz\", loader: grub}",
			`x.yaml:3: profiles.p.kernel: "http://h/vmlinuz": Debian's signed GRUB has no http module under Secure Boot ("prohibited by secure boot policy"), so loader grub loads kernels and initrds over TFTP; give a file of server.assets`},
		{"https initrd", "  p: {kernel: vmlinuz, initrd: [a.gz, \"https://h/i\"], loader: grub}",
			`x.yaml:3: profiles.p.initrd[1]: "https://h/i": Debian's signed GRUB has no http module`},
		{"chain", "  p: {chain: \"http://h/x.ipxe\", loader: grub}",
			`x.yaml:3: profiles.p.chain: a chain profile is an iPXE script; GRUB cannot run it (use loader: ipxe, or a kernel profile)`},
		{"script", "  p: {script: x.ipxe, loader: grub}", `x.yaml:3: profiles.p.script: a script profile is an iPXE script; GRUB cannot run it`},
		{"shell", "  p: {shell: true, loader: grub}", `x.yaml:3: profiles.p.shell: the iPXE shell is not there under GRUB`},
		{"kernel with a dollar", "  p: {kernel: \"v$x\", loader: grub}", `x.yaml:3: profiles.p.kernel: "v$x": a file name GRUB loads cannot hold`},
		{"cmdline with a line break", "  p: {kernel: v, cmdline: \"a\\nboot\", loader: grub}", `x.yaml:3: profiles.p.cmdline: must be one line without control characters for GRUB's linux command`},
		{"menu of a chain", "  c: {chain: \"http://h/x\"}\n  p: {menu: {items: [c]}, loader: grub}",
			`x.yaml:4: profiles.p.menu.items[0]: profile c: chain: a chain profile is an iPXE script`},
		{"machine loader grub on a chain profile", "  c: {chain: \"http://h/x\"}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: c, loader: grub}",
			`x.yaml:5: machines[0].loader: profile c cannot boot through GRUB: chain: a chain profile is an iPXE script`},
		{"machine loader unknown", "  k: {kernel: v}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: k, loader: lilo}",
			`x.yaml:5: machines[0].loader: "lilo" is not a loader; use "ipxe", "pxelinux", "grub" or "auto"`},
		{"secure boot with ipxe", "  k: {kernel: v, loader: ipxe}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: k, secure_boot: true}",
			`x.yaml:5: machines[0].secure_boot: Secure Boot firmware refuses ipxe (it is not signed); use loader grub or auto, or leave loader unset`},
		{"secure boot with an http kernel", "  k: {kernel: \"http://h/v\"}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: k, secure_boot: true}",
			`x.yaml:5: machines[0].secure_boot: profile k cannot boot through the signed GRUB chain: kernel: "http://h/v": Debian's signed GRUB`},
		{"secure boot group with a script", "  s: {script: x.ipxe}\ngroups:\n  - {name: g, selector: {rack: a}, profile: s, secure_boot: true}",
			`x.yaml:5: groups[0].secure_boot: profile s cannot boot through the signed GRUB chain: script: a script profile`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, head+tt.src+"\n")
			if !strings.Contains(got, tt.want) {
				t.Errorf("error (-want +got):\n-%s\n+%s", tt.want, got)
			}
		})
	}
}
