package assets

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
)

// TestClean is the table of every traversal form Clean must refuse, and of
// the names it accepts.
func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"vmlinuz", "vmlinuz", nil},
		{"boot/initrd.gz", "boot/initrd.gz", nil},
		{"./vmlinuz", "vmlinuz", nil},
		{"boot//initrd.gz", "boot/initrd.gz", nil},
		{"boot/./initrd.gz", "boot/initrd.gz", nil},
		{"pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/01-52-54-00-12-34-56", nil},
		{"...", "...", nil}, // a name, not a parent
		{"..a", "..a", nil},
		{".", "", ErrNotFound},
		{"", "", ErrUnsafe},
		{"/etc/passwd", "", ErrUnsafe},
		{"/", "", ErrUnsafe},
		{"..", "", ErrUnsafe},
		{"../secret", "", ErrUnsafe},
		{"a/../../secret", "", ErrUnsafe},
		{"a/../b", "", ErrUnsafe},
		{"a/..", "", ErrUnsafe},
		{"a/b/../../..", "", ErrUnsafe},
		{"..\\secret", "", ErrUnsafe},
		{"a\\b", "", ErrUnsafe},
		{"\\\\server\\share", "", ErrUnsafe},
		{"C:\\Windows", "", ErrUnsafe},
		{"vmlinuz\x00.txt", "", ErrUnsafe},
		{"\x00", "", ErrUnsafe},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Clean(tt.in)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("Clean(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Clean(%q) (-want +got): -%q +%q", tt.in, tt.want, got)
			}
		})
	}
}

// TestOpenSymlinks: symlinks inside the tree are followed, out of it refused.
func TestOpenSymlinks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "assets")
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "file"), []byte("in"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "secret"), []byte("out"), 0o644))
	must(t, os.Symlink("sub/file", filepath.Join(dir, "rel")))
	must(t, os.Symlink(filepath.Join(root, "secret"), filepath.Join(dir, "abs-out")))
	must(t, os.Symlink("../secret", filepath.Join(dir, "rel-out")))
	must(t, os.Symlink(root, filepath.Join(dir, "dir-out")))
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := New(dir, log).WithoutEmbedded().WithSystemDir(t.TempDir())
	tests := []struct {
		name string
		err  error
	}{
		{"sub/file", nil},
		{"rel", nil},
		{"dir-out/assets/sub/file", ErrUnsafe}, // out and back in: os.Root refuses any step out
		{"abs-out", ErrUnsafe},
		{"rel-out", ErrUnsafe},
		{"dir-out/secret", ErrUnsafe},
		{"sub", ErrNotFound}, // a folder
		{"pxelinux.0", ErrNotFound},
	}
	for _, tt := range tests {
		f, err := s.Open(tt.name)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("Open(%q) error = %v, want %v", tt.name, err, tt.err)
		}
		if f != nil {
			b, _ := io.ReadAll(f)
			f.Close()
			if string(b) != "in" {
				t.Errorf("Open(%q) read %q", tt.name, b)
			}
		}
	}
}

// TestSystemDirs: each boot program is looked for in the folder its Debian
// package installs it in.
func TestSystemDirs(t *testing.T) {
	s := New("", logrus.New())
	for name, want := range map[string]string{
		"undionly.kpxe": "/usr/lib/ipxe", "ipxe.efi": "/usr/lib/ipxe",
		"pxelinux.0": "/usr/lib/PXELINUX", "lpxelinux.0": "/usr/lib/PXELINUX",
		"ldlinux.c32": "/usr/lib/syslinux/modules/bios",
	} {
		if got := s.systemDirOf(name); got != want {
			t.Errorf("systemDirOf(%s) = %s, want %s", name, got, want)
		}
		if !isBootProgram(name) {
			t.Errorf("%s is not a boot program", name)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSystemPaths: the Secure Boot chain is served under the names Shim
// loads, from the files Debian's shim-signed and grub-efi-amd64-signed
// install under other names; a test system folder keeps the served name.
func TestSystemPaths(t *testing.T) {
	s := New("", logrus.New())
	for name, want := range map[string]string{
		"secureboot/shimx64.efi": "/usr/lib/shim/shimx64.efi.signed",
		"secureboot/grubx64.efi": "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed",
		"ipxe.efi":               "/usr/lib/ipxe/ipxe.efi",
	} {
		if got := s.systemPath(name); got != want {
			t.Errorf("systemPath(%s) = %s, want %s", name, got, want)
		}
		if !isBootProgram(name) {
			t.Errorf("%s is not a boot program", name)
		}
	}
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "secureboot"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "secureboot", "grubx64.efi"), []byte("grub"), 0o644))
	f, err := New("", logrus.New()).WithoutEmbedded().WithSystemDir(dir).Open("secureboot/grubx64.efi")
	must(t, err)
	defer f.Close()
	if f.Size != 4 {
		t.Errorf("size %d, want 4", f.Size)
	}
}
