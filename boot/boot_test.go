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

// TestBootProgram checks the architecture table of the skeleton.
func TestBootProgram(t *testing.T) {
	for arch, want := range map[Arch]string{ArchBIOS: "undionly.kpxe", ArchEFIx64: "ipxe.efi", ArchEFIBC: "ipxe.efi", ArchEFIARM64: "", 1: ""} {
		got, err := BootProgram(arch)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("BootProgram(%d) = %q, %v; want %q", arch, got, err, want)
		}
	}
}
