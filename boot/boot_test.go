package boot

import (
	"maps"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/internal/testinv"
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// parseInventory builds an inventory the way the server does: through the
// config parser and its validation, so derived fields are filled as in
// production.
func parseInventory(t testing.TB, yaml string) *Inventory {
	t.Helper()
	return NewInventory(testinv.Parse(t, yaml))
}

const selectionYAML = `
profiles:
  direct: {kernel: vmlinuz}
  rack: {kernel: vmlinuz}
  rack-web: {kernel: vmlinuz}
  rack-web-2: {kernel: vmlinuz}
  efi: {kernel: vmlinuz}
  fallback: {kernel: vmlinuz}
machines:
  - {mac: "52:54:00:00:00:01", profile: direct, labels: {rack: a}}
  - {mac: "52:54:00:00:00:02", labels: {rack: a}}
  - {mac: "52:54:00:00:00:03", labels: {rack: a, role: web}}
  - {mac: "52:54:00:00:00:04", hostname: db1}
groups:
  - {name: rack-a, selector: {rack: a}, profile: rack}
  - {name: rack-a-web, selector: {rack: a, role: web}, profile: rack-web}
  - {name: rack-a-web-again, selector: {rack: a, role: web}, profile: rack-web-2}
  - {name: efi, selector: {arch: "7"}, profile: efi}
`

func selectionInventory(t *testing.T, defaultProfile string) *Inventory {
	y := selectionYAML
	if defaultProfile != "" {
		y += "default_profile: " + defaultProfile + "\n"
	}
	return parseInventory(t, y)
}

// TestDecide covers the selection order: machine, most specific group
// (first listed on a tie), default, no boot.
func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		facts       Facts
		dflt        string
		wantProfile string
		wantVia     string
		wantSource  Source
	}{
		{"machine names its profile", Facts{MAC: mustMAC("52:54:00:00:00:01")}, "fallback", "direct", "machine", SourceMachine},
		{"machine labels select a group", Facts{MAC: mustMAC("52:54:00:00:00:02")}, "fallback", "rack", "group rack-a", SourceGroup},
		{"most keys win, first listed on a tie", Facts{MAC: mustMAC("52:54:00:00:00:03")}, "fallback", "rack-web", "group rack-a-web", SourceGroup},
		{"query labels select a group", Facts{MAC: mustMAC("02:00:00:00:00:09"), Labels: map[string]string{"rack": "a"}}, "", "rack", "group rack-a", SourceGroup},
		{"arch is a selector key", Facts{MAC: mustMAC("02:00:00:00:00:09"), Arch: ArchEFIx64, HasArch: true}, "", "efi", "group efi", SourceGroup},
		{"partial selector match does not count", Facts{MAC: mustMAC("02:00:00:00:00:09"), Labels: map[string]string{"role": "web"}}, "fallback", "fallback", "default_profile", SourceDefault},
		{"unknown machine gets the default", Facts{MAC: mustMAC("02:00:00:00:00:09")}, "fallback", "fallback", "default_profile", SourceDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := selectionInventory(t, tt.dflt).Decide(tt.facts, Server{})
			if d.Profile == nil {
				t.Fatalf("no profile: %s", d.Reason)
			}
			if d.Profile.Name != tt.wantProfile || d.Via() != tt.wantVia || d.Source != tt.wantSource {
				t.Errorf("Decide = %s via %s (%v), want %s via %s", d.Profile.Name, d.Via(), d.Source, tt.wantProfile, tt.wantVia)
			}
		})
	}
}

// TestDecideNoBoot checks the reason names what was seen.
func TestDecideNoBoot(t *testing.T) {
	d := selectionInventory(t, "").Decide(Facts{MAC: mustMAC("52:54:00:00:00:04"), UUID: "u-1", Class: ClassPXE}, Server{})
	if d.Profile != nil || d.Source != SourceNone {
		t.Fatalf("got profile %v via %v, want none", d.Profile, d.Source)
	}
	for _, want := range []string{"machine entry without a profile", "mac=52:54:00:00:00:04", "hostname=db1", "uuid=u-1"} {
		if !strings.Contains(d.Reason, want) {
			t.Errorf("reason %q lacks %q", d.Reason, want)
		}
	}
	if d.Next.Step != StepNone || d.Next.Why != d.Reason {
		t.Errorf("next = %+v, want StepNone with the reason", d.Next)
	}
}

// TestInventoryIndexes: machines are found by MAC, UUID (any case) and
// fixed address.
func TestInventoryIndexes(t *testing.T) {
	inv := parseInventory(t, `
profiles: {k: {kernel: vmlinuz}}
machines:
  - {mac: "52:54:00:00:00:01", uuid: "AAAAAAAA-0000-0000-0000-000000000001", ipv4: 192.0.2.10, profile: k}
  - {mac: "52:54:00:00:00:02", profile: k}
`)
	if m := inv.MachineByUUID("aaaaaaaa-0000-0000-0000-000000000001"); m == nil || m.MAC != "52:54:00:00:00:01" {
		t.Errorf("by uuid: %v", m)
	}
	if m := inv.MachineByAddr(netip.MustParseAddr("192.0.2.10")); m == nil || m.MAC != "52:54:00:00:00:01" {
		t.Errorf("by address: %v", m)
	}
	if m := inv.MachineByAddr(netip.Addr{}); m != nil {
		t.Errorf("by an invalid address: %v", m)
	}
	if m := inv.MachineByAddr(netip.MustParseAddr("192.0.2.11")); m != nil {
		t.Errorf("by unknown address: %v", m)
	}
	if m := inv.Machine(mustMAC("52:54:00:00:00:02")); m == nil {
		t.Error("by MAC: not found")
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
		{27, "", false, true},
		{41, "", false, false},
		{999, "", false, false},
	}
	for _, tt := range tests {
		info := archTable[tt.arch]
		if info.ipxe != tt.want || info.http != tt.http || info.efi != tt.efi {
			t.Errorf("arch %d = %q http=%v efi=%v; want %q %v %v", tt.arch, info.ipxe, info.http, info.efi, tt.want, tt.http, tt.efi)
		}
		if got := (Facts{Arch: tt.arch, HasArch: true}).EFI(); got != tt.efi {
			t.Errorf("Facts{Arch: %d}.EFI() = %v, want %v", tt.arch, got, tt.efi)
		}
	}
	for a := Arch(0); a <= 41; a++ {
		if strings.Contains(a.String(), "unassigned") {
			t.Errorf("registered arch %d has no name", a)
		}
	}
}

// TestFactsEFI: HTTP Boot firmware and iPXE's platform=efi count as UEFI
// when no architecture was sent; a sent architecture decides alone.
func TestFactsEFI(t *testing.T) {
	tests := []struct {
		f    Facts
		want bool
	}{
		{Facts{}, false},
		{Facts{Class: ClassHTTP}, true},
		{Facts{Labels: map[string]string{"platform": "efi"}}, true},
		{Facts{Labels: map[string]string{"platform": "pcbios"}}, false},
		{Facts{Arch: 0, HasArch: true, Labels: map[string]string{"platform": "efi"}}, false},
	}
	for _, tt := range tests {
		if got := tt.f.EFI(); got != tt.want {
			t.Errorf("%+v.EFI() = %v, want %v", tt.f, got, tt.want)
		}
	}
}

// TestClientAttrs covers the precedence of what group selectors see: the
// client's facts over its extra labels over the machine's hostname and
// uuid over the machine's labels.
func TestClientAttrs(t *testing.T) {
	m := &config.Machine{Hostname: "db1", UUID: "m-uuid", Labels: map[string]string{
		"rack": "a", "hostname": "label-host", "uuid": "label-uuid", "mac": "label-mac", "empty": "",
	}}
	tests := []struct {
		name string
		f    Facts
		m    *config.Machine
		want map[string]string
	}{
		{"nothing known", Facts{}, nil, map[string]string{}},
		{"facts only", Facts{MAC: mustMAC("52:54:00:aa:bb:cc"), UUID: "f-uuid", Hostname: "h", Arch: ArchEFIx64, HasArch: true},
			nil, map[string]string{"mac": "52:54:00:aa:bb:cc", "uuid": "f-uuid", "hostname": "h", "arch": "7"}},
		{"machine fields over its labels", Facts{}, m,
			map[string]string{"rack": "a", "hostname": "db1", "uuid": "m-uuid", "mac": "label-mac", "empty": ""}},
		{"client labels over the machine, empty ones ignored", Facts{Labels: map[string]string{"rack": "b", "hostname": "q", "empty": "", "x": ""}}, m,
			map[string]string{"rack": "b", "hostname": "q", "uuid": "m-uuid", "mac": "label-mac", "empty": ""}},
		{"facts over everything", Facts{MAC: mustMAC("52:54:00:aa:bb:cc"), UUID: "f-uuid", Hostname: "h", Labels: map[string]string{"uuid": "q", "arch": "9"}}, m,
			map[string]string{"rack": "a", "hostname": "h", "uuid": "f-uuid", "mac": "52:54:00:aa:bb:cc", "empty": "", "arch": "9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := clientAttrs{f: tt.f, m: tt.m}
			if got := a.all(); !maps.Equal(got, tt.want) {
				t.Errorf("attributes = %v, want %v", got, tt.want)
			}
			for _, k := range []string{"rack", "hostname", "uuid", "mac", "arch", "empty", "x", "absent"} {
				v, ok := a.get(k)
				if wv, wok := tt.want[k]; v != wv || ok != wok {
					t.Errorf("get(%q) = %q %v, want %q %v", k, v, ok, wv, wok)
				}
			}
		})
	}
}
