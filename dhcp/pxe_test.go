package dhcp

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// TestBootFor covers the boot decision of every client class, boot_method
// and a missing boot program.
func TestBootFor(t *testing.T) {
	srv := ServerInfo{Addr: netip.MustParseAddr("192.0.2.1"), HTTPPort: 8080,
		Has: func(name string) bool { return name != "ipxe-arm64.efi" }}
	kernel := &config.Profile{Name: "k", Kernel: "vmlinuz"}
	viaHTTP := &config.Profile{Name: "h", Kernel: "vmlinuz", BootMethod: config.BootMethodHTTP}
	viaPXE := &config.Profile{Name: "p", Kernel: "vmlinuz", BootMethod: config.BootMethodPXE}
	client := func(class Class, arch boot.Arch, has bool) Client {
		return Client{Class: class, Facts: boot.Facts{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Arch: arch, HasArch: has}}
	}
	tests := []struct {
		name     string
		c        Client
		d        boot.Decision
		wantFile string
		wantNext string
		want60   bool
	}{
		{"bios pxe", client(ClassPXE, 0, true), boot.Decision{Profile: kernel}, "undionly.kpxe", "192.0.2.1", false},
		{"pxe rom without option 93 is bios", client(ClassPXE, 0, false), boot.Decision{Profile: kernel}, "undionly.kpxe", "192.0.2.1", false},
		{"efi x64 pxe", client(ClassPXE, 7, true), boot.Decision{Profile: kernel}, "ipxe.efi", "192.0.2.1", false},
		{"efi ia32 pxe", client(ClassPXE, 6, true), boot.Decision{Profile: kernel}, "ipxe-i386.efi", "192.0.2.1", false},
		{"http boot x64", client(ClassHTTP, 16, true), boot.Decision{Profile: kernel}, "http://192.0.2.1:8080/assets/ipxe.efi", "", true},
		{"http boot without option 93", client(ClassHTTP, 0, false), boot.Decision{Profile: kernel}, "http://192.0.2.1:8080/assets/ipxe.efi", "", true},
		{"ipxe", client(ClassIPXE, 7, true), boot.Decision{Profile: kernel}, "http://192.0.2.1:8080/boot.ipxe", "", false},
		{"boot_method http skips pxe", client(ClassPXE, 7, true), boot.Decision{Profile: viaHTTP}, "", "", false},
		{"boot_method http answers http boot", client(ClassHTTP, 16, true), boot.Decision{Profile: viaHTTP}, "http://192.0.2.1:8080/assets/ipxe.efi", "", true},
		{"boot_method pxe skips http boot", client(ClassHTTP, 16, true), boot.Decision{Profile: viaPXE}, "", "", false},
		{"machine boot_method overrides the profile's", client(ClassPXE, 7, true),
			boot.Decision{Profile: viaHTTP, Machine: &config.Machine{BootMethod: config.BootMethodPXE}}, "ipxe.efi", "192.0.2.1", false},
		{"boot_method leaves ipxe alone", client(ClassIPXE, 7, true), boot.Decision{Profile: viaHTTP}, "http://192.0.2.1:8080/boot.ipxe", "", false},
		{"arm64 build missing", client(ClassPXE, 11, true), boot.Decision{Profile: kernel}, "", "", false},
		{"arm64 http build missing", client(ClassHTTP, 19, true), boot.Decision{Profile: kernel}, "", "", false},
		{"u-boot has no program", client(ClassPXE, 22, true), boot.Decision{Profile: kernel}, "", "", false},
		{"no profile", client(ClassPXE, 0, true), boot.Decision{Reason: "nothing matched"}, "", "", false},
		{"plain client", client(ClassPlain, 0, false), boot.Decision{Profile: kernel}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bf, err := BootFor(tt.c, tt.d, srv)
			if tt.wantFile == "" {
				if !errors.Is(err, ErrNoBoot) {
					t.Fatalf("BootFor = %+v, %v; want ErrNoBoot", bf, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			next := ""
			if bf.NextServer != nil {
				next = bf.NextServer.String()
			}
			if bf.File != tt.wantFile || next != tt.wantNext || (len(bf.Options) > 0) != tt.want60 {
				t.Errorf("BootFor = file %q next %q options %v; want %q %q option60=%v", bf.File, next, bf.Options, tt.wantFile, tt.wantNext, tt.want60)
			}
		})
	}
}

// TestBootForReasons checks that a skipped client is told why in words a
// user can act on.
func TestBootForReasons(t *testing.T) {
	srv := ServerInfo{Addr: netip.MustParseAddr("192.0.2.1"), HTTPPort: 8080, Has: func(string) bool { return false }}
	d := boot.Decision{Profile: &config.Profile{Kernel: "vmlinuz"}}
	_, err := BootFor(Client{Class: ClassPXE, Facts: boot.Facts{Arch: 11, HasArch: true}}, d, srv)
	want := "no boot: boot program ipxe-arm64.efi for arch 11 (ARM 64-bit UEFI) is not available (make assets, or put it in the assets folder)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
	_, err = BootFor(Client{Class: ClassPXE, Facts: boot.Facts{Arch: 2, HasArch: true}}, d, srv)
	if want := "no boot: no boot program for arch 2 (Itanium)"; err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}
