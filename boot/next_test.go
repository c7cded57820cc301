package boot

import (
	"net"
	"net/netip"
	"testing"

	"github.com/rackboot/rackboot/internal/testinv"
)

const nextYAML = `
profiles:
  k: {kernel: vmlinuz}
  h: {kernel: vmlinuz, boot_method: http}
  p: {kernel: vmlinuz, boot_method: pxe}
  px: {kernel: vmlinuz, loader: pxelinux}
  pxh: {kernel: "http://192.0.2.9/vmlinuz", loader: pxelinux}
  menu: {menu: {items: [k]}}
machines:
  - {mac: "02:00:00:00:00:01", profile: k}
  - {mac: "02:00:00:00:00:02", profile: h}
  - {mac: "02:00:00:00:00:03", profile: p}
  - {mac: "02:00:00:00:00:04", profile: h, boot_method: pxe}
  - {mac: "02:00:00:00:00:05", profile: px}
  - {mac: "02:00:00:00:00:06", profile: pxh}
  - {mac: "02:00:00:00:00:07", profile: menu}
  - {mac: "02:00:00:00:00:08"}
`

// TestNext covers the next step of every client class, boot_method,
// loader and a missing boot program.
func TestNext(t *testing.T) {
	inv := parseInventory(t, nextYAML)
	srv := Server{Addr: netip.MustParseAddr("192.0.2.1"), HTTPPort: 8080,
		Has: func(name string) bool { return name != "ipxe-arm64.efi" }}
	facts := func(mac string, class Class, arch Arch, has bool) Facts {
		return Facts{MAC: mustMAC(mac), Class: class, Arch: arch, HasArch: has}
	}
	const k, h, p, px, pxh, menu, bare = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03", "02:00:00:00:00:05", "02:00:00:00:00:06", "02:00:00:00:00:07", "02:00:00:00:00:08"
	tests := []struct {
		name string
		f    Facts
		want Next
	}{
		{"bios pxe", facts(k, ClassPXE, 0, true), Next{Step: StepTFTP, Program: "undionly.kpxe", Loader: "ipxe"}},
		{"pxe rom without option 93 is bios", facts(k, ClassPXE, 0, false), Next{Step: StepTFTP, Program: "undionly.kpxe", Loader: "ipxe"}},
		{"efi x64 pxe", facts(k, ClassPXE, 7, true), Next{Step: StepTFTP, Program: "ipxe.efi", Loader: "ipxe"}},
		{"efi ia32 pxe", facts(k, ClassPXE, 6, true), Next{Step: StepTFTP, Program: "ipxe-i386.efi", Loader: "ipxe"}},
		{"http boot x64", facts(k, ClassHTTP, 16, true), Next{Step: StepHTTPProgram, Program: "ipxe.efi", URL: "http://192.0.2.1:8080/assets/ipxe.efi", Loader: "ipxe"}},
		{"http boot without option 93", facts(k, ClassHTTP, 0, false), Next{Step: StepHTTPProgram, Program: "ipxe.efi", URL: "http://192.0.2.1:8080/assets/ipxe.efi", Loader: "ipxe"}},
		{"ipxe", facts(k, ClassIPXE, 7, true), Next{Step: StepScript, URL: "http://192.0.2.1:8080/boot.ipxe", Loader: "ipxe"}},
		{"boot_method http skips pxe", facts(h, ClassPXE, 7, true), Next{Why: "boot_method is http; leaving the PXE request for the firmware's HTTP Boot attempt"}},
		{"boot_method http answers http boot", facts(h, ClassHTTP, 16, true), Next{Step: StepHTTPProgram, Program: "ipxe.efi", URL: "http://192.0.2.1:8080/assets/ipxe.efi", Loader: "ipxe"}},
		{"boot_method pxe skips http boot", facts(p, ClassHTTP, 16, true), Next{Why: "boot_method is pxe; leaving the HTTP Boot request for the firmware's PXE attempt"}},
		{"machine boot_method overrides the profile's", facts("02:00:00:00:00:04", ClassPXE, 7, true), Next{Step: StepTFTP, Program: "ipxe.efi", Loader: "ipxe"}},
		{"boot_method leaves ipxe alone", facts(h, ClassIPXE, 7, true), Next{Step: StepScript, URL: "http://192.0.2.1:8080/boot.ipxe", Loader: "ipxe"}},
		{"arm64 build missing", facts(k, ClassPXE, 11, true), Next{Why: "boot program ipxe-arm64.efi for arch 11 (ARM 64-bit UEFI) is not available (make assets, or put it in the assets folder)"}},
		{"u-boot has no program", facts(k, ClassPXE, 22, true), Next{Why: "no boot program for arch 22 (ARM 64-bit U-Boot)"}},
		{"itanium has no program", facts(k, ClassPXE, 2, true), Next{Why: "no boot program for arch 2 (Itanium)"}},
		{"plain client", facts(k, ClassPlain, 0, false), Next{Why: "not a PXE, HTTP Boot or iPXE client"}},
		{"pxelinux for bios pxe", facts(px, ClassPXE, 0, true), Next{Step: StepTFTP, Program: "pxelinux.0", Loader: "pxelinux"}},
		{"pxelinux for a bios ipxe rom", facts(px, ClassIPXE, 0, true), Next{Step: StepTFTP, Program: "pxelinux.0", Loader: "pxelinux"}},
		{"lpxelinux for http kernels", facts(pxh, ClassPXE, 0, true), Next{Step: StepTFTP, Program: "lpxelinux.0", Loader: "pxelinux"}},
		{"pxelinux profile on uefi takes ipxe", facts(px, ClassPXE, 7, true), Next{Step: StepTFTP, Program: "ipxe.efi", Loader: "ipxe"}},
		{"pxelinux config", facts(px, ClassPXELINUX, 0, true), Next{Step: StepPXELINUXConfig, Loader: "pxelinux"}},
		{"pxelinux config needs a kernel", facts(menu, ClassPXELINUX, 0, true), Next{Why: "profile menu has no kernel; PXELINUX configs are generated for kernel profiles only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inv.Decide(tt.f, srv).Next; got != tt.want {
				t.Errorf("Next (-want +got):\n-%+v\n+%+v", tt.want, got)
			}
		})
	}
	d := inv.Decide(facts(bare, ClassPXE, 0, true), srv)
	if d.Next.Step != StepNone || d.Next.Why == "" || d.Next.Why != d.Reason {
		t.Errorf("no profile: next %+v, reason %q", d.Next, d.Reason)
	}
}

// TestServerURLs: IPv6 addresses are bracketed; paths come from one place.
func TestServerURLs(t *testing.T) {
	s := Server{Addr: netip.MustParseAddr("2001:db8::1"), HTTPPort: 8080}
	if got, want := s.ScriptURL(), "http://[2001:db8::1]:8080/boot.ipxe"; got != want {
		t.Errorf("ScriptURL = %s, want %s", got, want)
	}
	if got, want := s.AssetURL("ipxe.efi"), "http://[2001:db8::1]:8080/assets/ipxe.efi"; got != want {
		t.Errorf("AssetURL = %s, want %s", got, want)
	}
}

// TestDiscoverHold: with server.discover_hold, a client that no rule
// gives a profile gets the road to the no-profile script (iPXE its URL,
// PXE firmware the iPXE build); without it, nothing. A plain DHCP client
// and a machine whose profile is missing get nothing either way.
func TestDiscoverHold(t *testing.T) {
	srv := Server{Addr: netip.MustParseAddr("192.0.2.1"), HTTPPort: 8080, Has: func(string) bool { return true }}
	mac, _ := net.ParseMAC("52:54:00:00:00:09")
	for _, hold := range []bool{false, true} {
		yaml := "dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\n"
		if hold {
			yaml = "server: {discover_hold: true}\n" + yaml
		}
		inv := NewInventory(testinv.Parse(t, yaml))
		for _, tt := range []struct {
			f    Facts
			want Step
		}{
			{Facts{MAC: mac, Class: ClassIPXE}, StepScript},
			{Facts{MAC: mac, Class: ClassPXE, HasArch: true, Arch: ArchBIOS}, StepTFTP},
			{Facts{MAC: mac, Class: ClassPlain}, StepNone},
		} {
			want := tt.want
			if !hold || tt.f.Class == ClassPlain {
				want = StepNone
			}
			if got := inv.Decide(tt.f, srv).Next; got.Step != want {
				t.Errorf("hold=%v class %v: step %v (%s), want %v", hold, tt.f.Class, got.Step, got.Why, want)
			}
		}
	}
}
