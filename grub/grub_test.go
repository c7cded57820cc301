package grub

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/internal/golden"
	"github.com/rackboot/rackboot/internal/testinv"
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

const testYAML = `
server: {assets: /srv}
profiles:
  demo: {kernel: vmlinuz, initrd: [initrd.gz], cmdline: console=ttyS0 panic=-1, loader: grub}
  two: {kernel: debian/linux, initrd: [debian/initrd.gz, firmware.cpio], cmdline: "auto=true x='a b' $HOME;boot", loader: grub}
  rack: {kernel: rack/vmlinuz, loader: auto}
  disk: {local: true, loader: grub}
  choose: {menu: {title: "Pick one", items: [demo, disk], default: disk, timeout: 5s}, loader: grub}
  web: {kernel: "http://192.0.2.9/vmlinuz"}
  fallback: {kernel: fallback/vmlinuz, cmdline: quiet}
machines:
  - {mac: "52:54:00:12:34:56", hostname: node1, ipv4: 192.0.2.91, profile: demo}
  - {mac: "52:54:00:00:00:02", profile: two}
  - {mac: "52:54:00:00:00:03", labels: {rack: a}, ipv4: 192.0.2.93}
  - {mac: "52:54:00:00:00:04", profile: disk}
  - {mac: "52:54:00:00:00:05", profile: choose}
  - {mac: "52:54:00:00:00:06", profile: web}
groups:
  - {name: rack-a, selector: {rack: a}, profile: rack}
`

func resolver(t testing.TB, withDefault bool) *Resolver {
	y := testYAML
	if withDefault {
		y += "default_profile: fallback\n"
	}
	inv := boot.NewInventory(testinv.Parse(t, y))
	return NewResolver(func() *boot.Inventory { return inv })
}

func TestParseName(t *testing.T) {
	tests := []struct {
		in   string
		want Name
		ok   bool
	}{
		{"grub.cfg", Name{Kind: KindDefault}, true},
		{"grub.cfg-01-52-54-00-12-34-56", Name{Kind: KindMAC, MAC: mustMAC("52:54:00:12:34:56")}, true},
		{"grub.cfg-01-52-54-00-AB-CD-EF", Name{Kind: KindMAC, MAC: mustMAC("52:54:00:ab:cd:ef")}, true},
		{"grub.cfg-C000025B", Name{Kind: KindHexIP, Hex: "C000025B"}, true},
		{"grub.cfg-C", Name{Kind: KindHexIP, Hex: "C"}, true},
		{"grub.cfg-c000025b", Name{}, false},             // GRUB writes upper-case
		{"grub.cfg-C000025B0", Name{}, false},            // 9 digits
		{"grub.cfg-01-52-54-00-12-34", Name{}, false},    // 5 bytes
		{"grub.cfg-01:52:54:00:12:34:56", Name{}, false}, // colons
		{"x86_64-efi/command.lst", Name{}, false},        // GRUB's module lists are no config
		{"grub.cfg-", Name{}, false},
		{"../grub.cfg", Name{}, false},
		{"", Name{}, false},
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
	if got := MACName(mustMAC("52:54:00:AB:CD:EF")); got != "grub.cfg-01-52-54-00-ab-cd-ef" {
		t.Errorf("MACName = %s", got)
	}
}

// TestResolve is the name table: for each name GRUB asks and the client's
// address, which profile it yields, or not found.
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
		wantLookup  bool   // grub.cfg that runs GRUB's own lookup first
	}{
		{"mac of a machine", "grub.cfg-01-52-54-00-12-34-56", pool, false, "demo", false},
		{"mac of a machine a group boots", "grub.cfg-01-52-54-00-00-00-03", pool, false, "rack", false},
		{"mac of a local machine", "grub.cfg-01-52-54-00-00-00-04", pool, false, "disk", false},
		{"mac of a menu machine", "grub.cfg-01-52-54-00-00-00-05", pool, false, "choose", false},
		{"mac of an http-kernel machine", "grub.cfg-01-52-54-00-00-00-06", pool, false, "", false},
		{"unknown mac gets default_profile", "grub.cfg-01-02-00-00-00-00-09", pool, false, "fallback", false},
		{"unknown mac without default_profile", "grub.cfg-01-02-00-00-00-00-09", pool, true, "", false},
		{"full hex ip of a fixed address", "grub.cfg-C000025B", pool, false, "demo", false},
		{"full hex ip nobody has", "grub.cfg-C0000296", pool, false, "", false},
		{"prefix of the client's fixed address", "grub.cfg-C00002", node3, false, "rack", false},
		{"prefix not the client's", "grub.cfg-C0A8", node1, false, "", false},
		{"prefix of a pool client", "grub.cfg-C00002", pool, false, "", false},
		{"grub.cfg for a fixed address", "grub.cfg", node1, false, "demo", false},
		{"grub.cfg for a pool client looks up, then the default", "grub.cfg", pool, false, "fallback", true},
		{"grub.cfg with no client address", "grub.cfg", netip.Addr{}, false, "fallback", true},
		{"not a config", "x86_64-efi/fs.lst", node1, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := resolver(t, !tt.noDefault).Resolve(tt.file, tt.client)
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
			if got := strings.Contains(string(res.Body), "\n  normal\n"); got != tt.wantLookup {
				t.Errorf("lookup = %v, want %v:\n%s", got, tt.wantLookup, res.Body)
			}
			if !strings.Contains(string(res.Body), "profile "+tt.wantProfile) {
				t.Errorf("body does not boot %s:\n%s", tt.wantProfile, res.Body)
			}
		})
	}
}

// TestGolden renders one file per profile kind, and the grub.cfg that
// looks up the per-machine files first (with and without a default).
func TestGolden(t *testing.T) {
	pool := netip.MustParseAddr("192.0.2.150")
	cmdline := func(d boot.Decision) (string, error) {
		return strings.ReplaceAll(d.Profile.Cmdline, "console=ttyS0", "console=ttyS0 rendered=1"), nil
	}
	tests := []struct{ golden, file string }{
		{"kernel", "grub.cfg-01-52-54-00-12-34-56"},
		{"two_initrds_quoted_cmdline", "grub.cfg-01-52-54-00-00-00-02"},
		{"local", "grub.cfg-01-52-54-00-00-00-04"},
		{"menu", "grub.cfg-01-52-54-00-00-00-05"},
		{"lookup_then_default", "grub.cfg"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			res, err := resolver(t, true).WithCmdline(cmdline).Resolve(tt.file, pool)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.golden+".cfg"), res.Body)
		})
	}
	res, err := resolver(t, false).Resolve("grub.cfg", pool)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "lookup_then_nothing.cfg"), res.Body)
}

// TestEveryNameResolvesToTheMachine walks GRUB's lookup order for node1
// (fixed address): every name gives its profile.
func TestEveryNameResolvesToTheMachine(t *testing.T) {
	r := resolver(t, true)
	node1 := netip.MustParseAddr("192.0.2.91")
	names := []string{MACName(mustMAC("52:54:00:12:34:56"))}
	for h := boot.HexIP(node1); h != ""; h = h[:len(h)-1] {
		names = append(names, Config+"-"+h)
	}
	for _, name := range append(names, Config) {
		res, err := r.Resolve(name, node1)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if res.Decision.Profile.Name != "demo" {
			t.Errorf("%s gives profile %s, want demo", name, res.Decision.Profile.Name)
		}
	}
}

// TestForFacts is the /grub endpoint's view: MAC, UUID and labels, files
// from the HTTP server.
func TestForFacts(t *testing.T) {
	r := resolver(t, false).WithRoot("(http,192.0.2.1:8080)/assets/")
	res, err := r.ForFacts(boot.Facts{MAC: mustMAC("02:00:00:00:00:77"), Labels: map[string]string{"rack": "a"}})
	if err != nil || res.Decision.Profile.Name != "rack" {
		t.Fatalf("labels rack=a: %+v, %v", res.Decision, err)
	}
	if !strings.Contains(string(res.Body), "linux (http,192.0.2.1:8080)/assets/rack/vmlinuz\n") {
		t.Errorf("body:\n%s", res.Body)
	}
	if _, err := r.ForFacts(boot.Facts{MAC: mustMAC("02:00:00:00:00:77")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown machine, no default: %v", err)
	}
	if res, err := r.ForFacts(boot.Facts{UUID: "b8945908-d6a6-41a9-611d-74a6ab80b83d"}); err == nil {
		t.Errorf("unknown uuid: %s", res.Body)
	}
}

// TestImage: the HTTP Boot image's config goes on over TFTP (golden
// testdata/httpboot_image.cfg), and the image holds Shim, GRUB and it.
func TestImage(t *testing.T) {
	server := netip.MustParseAddr("192.0.2.1")
	golden.Check(t, filepath.Join("testdata", "httpboot_image.cfg"), ImageConfig(server))
	img, err := Image([]byte("SHIM-BYTES"), []byte("GRUB-BYTES"), server)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]byte{[]byte("SHIM-BYTES"), []byte("GRUB-BYTES"), ImageConfig(server), []byte("BOOTX64 EFI"), []byte("GRUBX64 EFI"), []byte("GRUB    CFG")} {
		if !bytes.Contains(img, want) {
			t.Errorf("the image lacks %q", want)
		}
	}
}
