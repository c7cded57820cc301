package boot

import (
	"net"
	"strings"
	"testing"

	"github.com/rackboot/rackboot/config"
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func selectionInventory(defaultProfile string) *Inventory {
	p := config.Profile{Kernel: "vmlinuz"}
	return NewInventory(&config.Config{
		Profiles: map[string]config.Profile{"direct": p, "rack": p, "rack-web": p, "rack-web-2": p, "efi": p, "fallback": p},
		Machines: []config.Machine{
			{MAC: "52:54:00:00:00:01", HWAddr: mustMAC("52:54:00:00:00:01"), Profile: "direct", Labels: map[string]string{"rack": "a"}},
			{MAC: "52:54:00:00:00:02", HWAddr: mustMAC("52:54:00:00:00:02"), Labels: map[string]string{"rack": "a"}},
			{MAC: "52:54:00:00:00:03", HWAddr: mustMAC("52:54:00:00:00:03"), Labels: map[string]string{"rack": "a", "role": "web"}},
			{MAC: "52:54:00:00:00:04", HWAddr: mustMAC("52:54:00:00:00:04"), Hostname: "db1"},
		},
		Groups: []config.Group{
			{Name: "rack-a", Selector: map[string]string{"rack": "a"}, Profile: "rack"},
			{Name: "rack-a-web", Selector: map[string]string{"rack": "a", "role": "web"}, Profile: "rack-web"},
			{Name: "rack-a-web-again", Selector: map[string]string{"rack": "a", "role": "web"}, Profile: "rack-web-2"},
			{Name: "efi", Selector: map[string]string{"arch": "7"}, Profile: "efi"},
		},
		DefaultProfile: defaultProfile,
	})
}

// TestDecide covers the selection order: machine, most specific group
// (first listed on a tie), default, no boot.
func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		facts       Facts
		dflt        string
		wantProfile string
		wantSource  string
	}{
		{"machine names its profile", Facts{MAC: mustMAC("52:54:00:00:00:01")}, "fallback", "direct", "machine"},
		{"machine labels select a group", Facts{MAC: mustMAC("52:54:00:00:00:02")}, "fallback", "rack", "group rack-a"},
		{"most keys win, first listed on a tie", Facts{MAC: mustMAC("52:54:00:00:00:03")}, "fallback", "rack-web", "group rack-a-web"},
		{"query labels select a group", Facts{MAC: mustMAC("02:00:00:00:00:09"), Labels: map[string]string{"rack": "a"}}, "", "rack", "group rack-a"},
		{"arch is a selector key", Facts{MAC: mustMAC("02:00:00:00:00:09"), Arch: ArchEFIx64, HasArch: true}, "", "efi", "group efi"},
		{"partial selector match does not count", Facts{MAC: mustMAC("02:00:00:00:00:09"), Labels: map[string]string{"role": "web"}}, "fallback", "fallback", "default_profile"},
		{"unknown machine gets the default", Facts{MAC: mustMAC("02:00:00:00:00:09")}, "fallback", "fallback", "default_profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := selectionInventory(tt.dflt).Decide(tt.facts)
			if d.Profile == nil {
				t.Fatalf("no profile: %s", d.Reason)
			}
			if d.Profile.Name != tt.wantProfile || d.Source != tt.wantSource {
				t.Errorf("Decide = %s via %s, want %s via %s", d.Profile.Name, d.Source, tt.wantProfile, tt.wantSource)
			}
		})
	}
}

// TestDecideNoBoot checks the reason names what was seen.
func TestDecideNoBoot(t *testing.T) {
	d := selectionInventory("").Decide(Facts{MAC: mustMAC("52:54:00:00:00:04"), UUID: "u-1"})
	if d.Profile != nil {
		t.Fatalf("got profile %s, want none", d.Profile.Name)
	}
	for _, want := range []string{"machine entry without a profile", "mac=52:54:00:00:00:04", "hostname=db1", "uuid=u-1"} {
		if !strings.Contains(d.Reason, want) {
			t.Errorf("reason %q lacks %q", d.Reason, want)
		}
	}
}

// TestArchTable checks the IANA architecture table: every registered type
// has a name, and the ones rackboot boots map to the right iPXE build.
func TestArchTable(t *testing.T) {
	tests := []struct {
		arch      Arch
		want      string
		http, efi bool
	}{
		{0, "undionly.kpxe", false, false},
		{6, "ipxe-i386.efi", false, true},
		{7, "ipxe.efi", false, true},
		{9, "ipxe.efi", false, true},
		{10, "ipxe-arm32.efi", false, true},
		{11, "ipxe-arm64.efi", false, true},
		{15, "ipxe-i386.efi", true, true},
		{16, "ipxe.efi", true, true},
		{17, "ipxe.efi", true, true},
		{18, "ipxe-arm32.efi", true, true},
		{19, "ipxe-arm64.efi", true, true},
		{1, "", false, false},
		{12, "", false, false},
		{20, "", true, false},
		{22, "", false, false},
		{27, "", false, false},
		{41, "", false, false},
		{999, "", false, false},
	}
	for _, tt := range tests {
		p, err := ProgramFor(tt.arch)
		if p.Name != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("ProgramFor(%d) = %q, %v; want %q", tt.arch, p.Name, err, tt.want)
		}
		if err == nil && (p.HTTP != tt.http || p.EFI != tt.efi) {
			t.Errorf("ProgramFor(%d) http=%v efi=%v, want %v %v", tt.arch, p.HTTP, p.EFI, tt.http, tt.efi)
		}
		if tt.arch.IsHTTP() != tt.http {
			t.Errorf("Arch(%d).IsHTTP() = %v, want %v", tt.arch, tt.arch.IsHTTP(), tt.http)
		}
		if err != nil && !strings.Contains(err.Error(), "no boot program for arch ") {
			t.Errorf("ProgramFor(%d) error %q does not say which arch", tt.arch, err)
		}
	}
	for a := Arch(0); a <= 41; a++ {
		if strings.Contains(a.String(), "unassigned") {
			t.Errorf("registered arch %d has no name", a)
		}
	}
}
