package boot

import (
	"net/netip"
	"strings"
	"testing"
)

const grubYAML = `
server: {assets: /srv}
profiles:
  g: {kernel: vmlinuz, initrd: [initrd.gz], loader: grub}
  k: {kernel: vmlinuz}
  a: {kernel: vmlinuz, loader: auto}
  web: {kernel: "http://192.0.2.9/vmlinuz", loader: auto}
  i: {kernel: vmlinuz, loader: ipxe}
  disk: {local: true}
  chain: {chain: "http://192.0.2.9/x.ipxe"}
machines:
  - {mac: "02:00:00:00:00:01", profile: g}
  - {mac: "02:00:00:00:00:02", profile: k, secure_boot: true}
  - {mac: "02:00:00:00:00:03", profile: a}
  - {mac: "02:00:00:00:00:04", profile: k, loader: grub}
  - {mac: "02:00:00:00:00:05", labels: {rack: sb}}
  - {mac: "02:00:00:00:00:06", profile: web}
  - {mac: "02:00:00:00:00:07", profile: i}
  - {mac: "02:00:00:00:00:08", profile: chain}
  - {mac: "02:00:00:00:00:09", profile: disk}
groups:
  - {name: sb, selector: {rack: sb}, profile: k, secure_boot: true}
`

// TestNextGRUB: which UEFI clients get the signed chain (a TFTP name),
// and what every other client keeps.
func TestNextGRUB(t *testing.T) {
	inv := parseInventory(t, grubYAML)
	srv := Server{Addr: netip.MustParseAddr("192.0.2.1"), HTTPPort: 8080}
	f := func(mac string, class Class, arch Arch) Facts {
		return Facts{MAC: mustMAC(mac), Class: class, Arch: arch, HasArch: true}
	}
	shim := Next{Step: StepTFTP, Program: "secureboot/shimx64.efi", Loader: "grub"}
	ipxe := Next{Step: StepTFTP, Program: "ipxe.efi", Loader: "ipxe"}
	refused := f("02:00:00:00:00:03", ClassPXE, 7)
	refused.RefusedIPXE = true
	refusedIPXELoader := f("02:00:00:00:00:07", ClassPXE, 7)
	refusedIPXELoader.RefusedIPXE = true
	refusedWeb := f("02:00:00:00:00:06", ClassPXE, 7)
	refusedWeb.RefusedIPXE = true
	refusedHTTP := f("02:00:00:00:00:03", ClassHTTP, 16)
	refusedHTTP.RefusedIPXE = true
	image := Next{Step: StepHTTPProgram, Program: "secureboot/httpboot.img", URL: "http://192.0.2.1:8080/assets/secureboot/httpboot.img", Loader: "grub"}
	tests := []struct {
		name string
		f    Facts
		want Next
	}{
		{"grub profile, uefi pxe", f("02:00:00:00:00:01", ClassPXE, 7), shim},
		{"grub profile, ebc arch", f("02:00:00:00:00:01", ClassPXE, 9), shim},
		{"grub profile, http boot gets the disk image", f("02:00:00:00:00:01", ClassHTTP, 16), image},
		{"auto after a refused ipxe, http boot", refusedHTTP, image},
		{"grub profile, bios keeps ipxe", f("02:00:00:00:00:01", ClassPXE, 0), Next{Step: StepTFTP, Program: "undionly.kpxe", Loader: "ipxe"}},
		{"grub profile, ipxe already running", f("02:00:00:00:00:01", ClassIPXE, 7), Next{Step: StepScript, URL: "http://192.0.2.1:8080/boot.ipxe", Loader: "ipxe"}},
		{"grub profile, arm64", f("02:00:00:00:00:01", ClassPXE, 11), Next{Why: "no signed boot chain for arch 11 (ARM 64-bit UEFI) (rackboot has Shim and GRUB for x64 UEFI only)"}},
		{"secure_boot machine, loader unset", f("02:00:00:00:00:02", ClassPXE, 7), shim},
		{"secure_boot group", f("02:00:00:00:00:05", ClassPXE, 7), shim},
		{"machine loader grub overrides", f("02:00:00:00:00:04", ClassPXE, 7), shim},
		{"auto without secure_boot is ipxe", f("02:00:00:00:00:03", ClassPXE, 7), ipxe},
		{"auto after a refused ipxe", refused, shim},
		{"explicit ipxe ignores a refusal", refusedIPXELoader, ipxe},
		{"auto after a refusal, http kernel", refusedWeb, Next{Why: `the firmware needs the signed chain (it refused iPXE), but profile web cannot boot through GRUB: kernel: "http://192.0.2.9/vmlinuz": Debian's signed GRUB has no http module under Secure Boot ("prohibited by secure boot policy"), so loader grub loads kernels and initrds over TFTP; give a file of server.assets`}},
		{"grub config", f("02:00:00:00:00:01", ClassGRUB, 7), Next{Step: StepGRUBConfig, Loader: "grub"}},
		{"grub config for a local profile", f("02:00:00:00:00:09", ClassGRUB, 7), Next{Step: StepGRUBConfig, Loader: "grub"}},
		{"grub config for a chain profile", f("02:00:00:00:00:08", ClassGRUB, 7), Next{Why: "profile chain cannot boot through GRUB: chain: a chain profile is an iPXE script; GRUB cannot run it (use loader: ipxe, or a kernel profile)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inv.Decide(tt.f, srv).Next; got != tt.want {
				t.Errorf("Next (-want +got):\n-%+v\n+%+v", tt.want, got)
			}
		})
	}
	missing := Server{Addr: srv.Addr, HTTPPort: 8080, Has: func(n string) bool { return n != GRUBProgram }}
	if got := inv.Decide(f("02:00:00:00:00:01", ClassPXE, 7), missing).Next; got.Step != StepNone || !strings.Contains(got.Why, "secureboot/grubx64.efi") {
		t.Errorf("GRUB missing: %+v", got)
	}
	noImage := Server{Addr: srv.Addr, HTTPPort: 8080, Has: func(n string) bool { return n != SecureBootImage }}
	if got := inv.Decide(f("02:00:00:00:00:01", ClassHTTP, 16), noImage).Next; got.Step != StepNone || !strings.Contains(got.Why, SecureBootImage) {
		t.Errorf("image missing: %+v", got)
	}
	if d := inv.Decide(f("02:00:00:00:00:05", ClassPXE, 7), srv); !d.SecureBoot || d.Group != "sb" {
		t.Errorf("group decision %+v", d)
	}
}

func TestHexIP(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.91")
	if got := HexIP(a); got != "C000025B" {
		t.Errorf("HexIP = %s", got)
	}
	if got := AddrOfHex("C000025B"); got != a {
		t.Errorf("AddrOfHex = %v", got)
	}
	for _, bad := range []string{"C000025", "C000025B0", "zz000000", ""} {
		if got := AddrOfHex(bad); got.IsValid() {
			t.Errorf("AddrOfHex(%q) = %v, want invalid", bad, got)
		}
	}
}
