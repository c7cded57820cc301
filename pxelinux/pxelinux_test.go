package pxelinux

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rackboot/rackboot/boot"
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

// testInventory: node1 has a MAC, a UUID and a fixed address; node2 only a
// MAC and a profile; node3 has no profile but a label a group selects;
// unknown clients get "fallback"; "uuid-group" selects one UUID.
func testInventory(t testing.TB, withDefault bool) *boot.Inventory {
	y := `
profiles:
  demo: {kernel: vmlinuz, initrd: [initrd.gz], cmdline: console=ttyS0 panic=-1, loader: pxelinux}
  two: {kernel: debian/linux, initrd: [debian/initrd.gz, firmware.cpio], cmdline: auto=true}
  rack: {kernel: rack/vmlinuz}
  fallback: {kernel: fallback/vmlinuz, cmdline: quiet}
  uuid-group: {kernel: u/vmlinuz}
  disk: {local: true}
machines:
  - {mac: "52:54:00:12:34:56", uuid: B8945908-D6A6-41A9-611D-74A6AB80B83D, hostname: node1, ipv4: 192.0.2.91, profile: demo}
  - {mac: "52:54:00:00:00:02", profile: two}
  - {mac: "52:54:00:00:00:03", labels: {rack: a}, ipv4: 192.0.2.93}
  - {mac: "52:54:00:00:00:04", profile: disk}
groups:
  - {name: rack-a, selector: {rack: a}, profile: rack}
  - {name: one-uuid, selector: {uuid: 00000000-0000-0000-0000-0000000000aa}, profile: uuid-group}
`
	if withDefault {
		y += "default_profile: fallback\n"
	}
	return boot.NewInventory(testinv.Parse(t, y))
}

func TestParseName(t *testing.T) {
	tests := []struct {
		in   string
		want Name
		ok   bool
	}{
		{"default", Name{Kind: KindDefault}, true},
		{"b8945908-d6a6-41a9-611d-74a6ab80b83d", Name{Kind: KindUUID, UUID: "b8945908-d6a6-41a9-611d-74a6ab80b83d"}, true},
		{"B8945908-D6A6-41A9-611D-74A6AB80B83D", Name{Kind: KindUUID, UUID: "b8945908-d6a6-41a9-611d-74a6ab80b83d"}, true},
		{"01-52-54-00-12-34-56", Name{Kind: KindMAC, MAC: mustMAC("52:54:00:12:34:56")}, true},
		{"01-52-54-00-AB-CD-EF", Name{Kind: KindMAC, MAC: mustMAC("52:54:00:ab:cd:ef")}, true},
		{"C000025B", Name{Kind: KindHexIP, Hex: "C000025B"}, true},
		{"c000025b", Name{Kind: KindHexIP, Hex: "C000025B"}, true},
		{"C", Name{Kind: KindHexIP, Hex: "C"}, true},
		{"C000025B0", Name{}, false},                        // 9 digits
		{"06-52-54-00-12-34-56", Name{}, false},             // not ARP type 1
		{"01-52-54-00-12-34", Name{}, false},                // 5 bytes
		{"01:52:54:00:12:34:56", Name{}, false},             // colons
		{"Default", Name{}, false},                          // case matters, as on a file system
		{"../default", Name{}, false},                       // never a path
		{"", Name{}, false},                                 // the folder itself
		{"default.menu", Name{}, false},                     // not a name PXELINUX derives
		{"b8945908d6a641a9611d74a6ab80b83d", Name{}, false}, // UUID without dashes
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseName(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseName(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Errorf("error %v does not wrap ErrNotFound", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseName(%q) (-want +got):\n-%+v\n+%+v", tt.in, tt.want, got)
			}
		})
	}
}

func TestNames(t *testing.T) {
	got := Names("B8945908-D6A6-41A9-611D-74A6AB80B83D", mustMAC("88:99:AA:BB:CC:DD"), netip.MustParseAddr("192.0.2.91"))
	want := []string{"b8945908-d6a6-41a9-611d-74a6ab80b83d", "01-88-99-aa-bb-cc-dd",
		"C000025B", "C000025", "C00002", "C0000", "C000", "C00", "C0", "C", "default"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names (-want +got):\n-%q\n+%q", want, got)
	}
}

// TestResolve is the name resolution table: for each name and client
// address, which profile (and machine) it yields, or not found.
func TestResolve(t *testing.T) {
	node1 := netip.MustParseAddr("192.0.2.91")
	node3 := netip.MustParseAddr("192.0.2.93")
	pool := netip.MustParseAddr("192.0.2.150")
	tests := []struct {
		name        string
		file        string
		client      netip.Addr
		noDefault   bool
		wantProfile string // "" means not found
		wantMAC     string
	}{
		{"uuid of a machine", "b8945908-d6a6-41a9-611d-74a6ab80b83d", pool, false, "demo", "52:54:00:12:34:56"},
		{"uuid upper-case", "B8945908-D6A6-41A9-611D-74A6AB80B83D", pool, false, "demo", "52:54:00:12:34:56"},
		{"uuid a group selects", "00000000-0000-0000-0000-0000000000aa", pool, false, "uuid-group", ""},
		{"unknown uuid falls through", "00000000-0000-0000-0000-000000000000", node1, false, "", ""},
		{"mac of a machine", "01-52-54-00-12-34-56", pool, false, "demo", "52:54:00:12:34:56"},
		{"mac of a machine without profile, group by label", "01-52-54-00-00-00-03", pool, false, "rack", "52:54:00:00:00:03"},
		{"mac of a pool machine", "01-52-54-00-00-00-02", pool, false, "two", "52:54:00:00:00:02"},
		{"unknown mac falls through to default", "01-02-00-00-00-00-09", pool, false, "", ""},
		{"machine with a local profile", "01-52-54-00-00-00-04", pool, false, "", ""},
		{"full hex ip of a fixed address", "C000025B", pool, false, "demo", "52:54:00:12:34:56"},
		{"full hex ip, lower-case", "c000025b", pool, false, "demo", "52:54:00:12:34:56"},
		{"full hex ip nobody has", "C0000296", pool, false, "", ""},
		{"7-digit prefix of the client", "C000025", node1, false, "demo", "52:54:00:12:34:56"},
		{"1-digit prefix of the client", "C", node1, false, "demo", "52:54:00:12:34:56"},
		{"prefix of another machine's client", "C00002", node3, false, "rack", "52:54:00:00:00:03"},
		{"prefix not the client's", "C0A8", node1, false, "", ""},
		{"prefix of a pool client", "C00002", pool, false, "", ""},
		{"prefix with no client address", "C", netip.Addr{}, false, "", ""},
		{"default for a fixed address", "default", node1, false, "demo", "52:54:00:12:34:56"},
		{"default for a pool client", "default", pool, false, "fallback", ""},
		{"default without client address", "default", netip.Addr{}, false, "fallback", ""},
		{"default with no default_profile", "default", pool, true, "", ""},
		{"default with no default_profile, fixed address", "default", node3, true, "rack", "52:54:00:00:00:03"},
		{"not a PXELINUX name", "menu.cfg", node1, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory(t, !tt.noDefault)
			r := NewResolver(func() *boot.Inventory { return inv })
			res, err := r.Resolve(tt.file, tt.client)
			if tt.wantProfile == "" {
				if err == nil {
					t.Fatalf("Resolve(%q, %v) = profile %s, want not found", tt.file, tt.client, res.Decision.Profile.Name)
				}
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("error %v does not wrap ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q, %v): %v", tt.file, tt.client, err)
			}
			if got := res.Decision.Profile.Name; got != tt.wantProfile {
				t.Errorf("profile (-want +got): -%s +%s", tt.wantProfile, got)
			}
			gotMAC := ""
			if res.Decision.Machine != nil {
				gotMAC = res.Decision.Machine.MAC
			}
			if gotMAC != tt.wantMAC {
				t.Errorf("machine (-want +got): -%q +%q", tt.wantMAC, gotMAC)
			}
			if !strings.Contains(string(res.Body), "LABEL "+tt.wantProfile+"\n") {
				t.Errorf("body does not boot %s:\n%s", tt.wantProfile, res.Body)
			}
		})
	}
}

// TestEveryNameResolvesToTheMachine walks PXELINUX's whole search order for
// node1 (fixed address) and node2 (pool address): every name that resolves
// gives that machine's profile, and the first one found is the machine's.
func TestEveryNameResolvesToTheMachine(t *testing.T) {
	inv := testInventory(t, true)
	r := NewResolver(func() *boot.Inventory { return inv })
	node1 := netip.MustParseAddr("192.0.2.91")
	for _, name := range Names("b8945908-d6a6-41a9-611d-74a6ab80b83d", mustMAC("52:54:00:12:34:56"), node1) {
		res, err := r.Resolve(name, node1)
		if err != nil {
			t.Errorf("node1: %s: %v", name, err)
			continue
		}
		if res.Decision.Profile.Name != "demo" {
			t.Errorf("node1: %s gives profile %s, want demo", name, res.Decision.Profile.Name)
		}
	}
	pool := netip.MustParseAddr("192.0.2.150")
	first := ""
	for _, name := range Names("", mustMAC("52:54:00:00:00:02"), pool) {
		if res, err := r.Resolve(name, pool); err == nil {
			first = res.Decision.Profile.Name
			break
		}
	}
	if first != "two" {
		t.Errorf("node2's first resolving name gives %q, want two", first)
	}
}

func TestWithCmdline(t *testing.T) {
	inv := testInventory(t, true)
	r := NewResolver(func() *boot.Inventory { return inv }).WithCmdline(func(d boot.Decision) (string, error) {
		return d.Profile.Cmdline + " hostname=" + d.Machine.Hostname, nil
	})
	res, err := r.Resolve("01-52-54-00-12-34-56", netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "APPEND initrd=initrd.gz console=ttyS0 panic=-1 hostname=node1\n"; !strings.Contains(string(res.Body), want) {
		t.Errorf("body lacks %q:\n%s", want, res.Body)
	}
	if inv.Profile("demo").Cmdline != "console=ttyS0 panic=-1" {
		t.Error("WithCmdline changed the inventory's profile")
	}
}

// TestRenderGolden compares generated files with testdata/*.cfg
// (UPDATE_GOLDEN=1 rewrites them).
func TestRenderGolden(t *testing.T) {
	node1 := &config.Machine{MAC: "52:54:00:12:34:56", Hostname: "node1"}
	tests := []struct {
		golden string
		d      boot.Decision
	}{
		{"one_initrd", boot.Decision{Profile: &config.Profile{Name: "demo", Kernel: "vmlinuz", Initrd: []string{"initrd.gz"}, Cmdline: "console=ttyS0 panic=-1"}, Machine: node1, Source: boot.SourceMachine}},
		{"two_initrds", boot.Decision{Profile: &config.Profile{Name: "debian-12", Kernel: "debian/linux", Initrd: []string{"debian/initrd.gz", "firmware.cpio"}, Cmdline: "auto=true priority=critical"}, Source: boot.SourceGroup, Group: "rack-a", Machine: &config.Machine{MAC: "52:54:00:00:00:03"}}},
		{"no_initrd_no_cmdline", boot.Decision{Profile: &config.Profile{Name: "bare", Kernel: "memtest"}, Source: boot.SourceDefault}},
		{"http_urls", boot.Decision{Profile: &config.Profile{Name: "remote", Kernel: "http://192.0.2.1:8080/assets/vmlinuz", Initrd: []string{"http://192.0.2.1:8080/assets/initrd.gz"}, Cmdline: "ip=dhcp"}, Source: boot.SourceDefault}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := Render(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, got)
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name string
		p    config.Profile
	}{
		{"no kernel", config.Profile{Name: "disk", Local: true}},
		{"cmdline injects a directive", config.Profile{Name: "x", Kernel: "vmlinuz", Cmdline: "quiet\nLABEL evil\n  KERNEL other"}},
		{"carriage return", config.Profile{Name: "x", Kernel: "vmlinuz", Cmdline: "quiet\rMENU"}},
		{"space in kernel", config.Profile{Name: "x", Kernel: "my kernel"}},
		{"comma in initrd", config.Profile{Name: "x", Kernel: "vmlinuz", Initrd: []string{"a,b"}}},
		{"https kernel", config.Profile{Name: "x", Kernel: "https://example.org/vmlinuz"}},
		{"https initrd", config.Profile{Name: "x", Kernel: "vmlinuz", Initrd: []string{"https://example.org/i"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := Render(boot.Decision{Profile: &tt.p, Source: boot.SourceMachine}); err == nil {
				t.Errorf("Render accepted it:\n%s", b)
			}
		})
	}
	if _, err := Render(boot.Decision{Reason: "nothing matched"}); err == nil {
		t.Error("Render accepted a decision without a profile")
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name+".cfg")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run UPDATE_GOLDEN=1 go test ./pxelinux)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s (-want +got):\n-%s\n+%s", file, want, got)
	}
}

// FuzzParseName: names come from the network; parsing must not panic, and
// an accepted name must round-trip through Names' formatting.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"default", "01-52-54-00-12-34-56", "C000025B", "b8945908-d6a6-41a9-611d-74a6ab80b83d", "../x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			return
		}
		if n.Kind == KindMAC {
			if got := Names("", n.MAC, netip.Addr{})[0]; !strings.EqualFold(got, s) {
				t.Errorf("MAC name %q formats back as %q", s, got)
			}
		}
	})
}

// Names lists the names, under Dir, that PXELINUX tries for a client, in its
// order: UUID (when known), 01-MAC, the hex address and each of its prefixes
// down to one digit, then default.
func Names(uuid string, mac net.HardwareAddr, addr netip.Addr) []string {
	var names []string
	if uuid != "" {
		names = append(names, strings.ToLower(uuid))
	}
	if len(mac) == 6 {
		names = append(names, "01-"+strings.ReplaceAll(mac.String(), ":", "-"))
	}
	if addr.Is4() {
		h := HexIP(addr)
		for i := len(h); i > 0; i-- {
			names = append(names, h[:i])
		}
	}
	return append(names, "default")
}
