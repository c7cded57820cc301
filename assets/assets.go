// Package assets answers "open this name" for TFTP and HTTP alike: the boot
// programs embedded at build time (or found where Debian's ipxe, pxelinux
// and syslinux-common packages install them), and
// the files of the user's assets folder, with every path check in one place.
package assets

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
)

// embedded holds the boot programs that `make assets` put into assets/boot.
// The folder always holds README.md, so the build works without them.
//
//go:embed boot
var embedded embed.FS

// BootPrograms are the names of the boot programs rackboot hands out: the
// iPXE builds, PXELINUX (pxelinux.0 loads over TFTP only, lpxelinux.0 also
// over HTTP), the ldlinux.c32 module both PXELINUX builds load first, and
// the Secure Boot chain (Shim and GRUB, see SecureBootDir).
var BootPrograms = []string{"undionly.kpxe", "ipxe.efi", "snponly.efi", "pxelinux.0", "lpxelinux.0", "ldlinux.c32",
	ShimProgram, GRUBProgram}

// The Secure Boot chain, by the names it is served under (see
// boot.ShimProgram).
const (
	ShimProgram = boot.ShimProgram
	GRUBProgram = boot.GRUBProgram
)

// systemFiles are the installed copies of programs whose Debian file
// name differs from the name served.
var systemFiles = map[string]string{
	ShimProgram: "/usr/lib/shim/shimx64.efi.signed",
	GRUBProgram: "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed",
}

// SystemDir is where Debian's ipxe package installs the iPXE builds; used
// when a program was not embedded.
const SystemDir = "/usr/lib/ipxe"

// systemDirs are the folders Debian installs each boot program in: ipxe
// into SystemDir, pxelinux into /usr/lib/PXELINUX, syslinux-common its BIOS
// modules into /usr/lib/syslinux/modules/bios.
var systemDirs = map[string]string{
	"pxelinux.0":  "/usr/lib/PXELINUX",
	"lpxelinux.0": "/usr/lib/PXELINUX",
	"ldlinux.c32": "/usr/lib/syslinux/modules/bios",
}

// Errors returned by Open.
var (
	ErrNotFound = errors.New("file not found")
	ErrUnsafe   = errors.New("path leaves the assets tree")
)

// File is an open asset.
type File struct {
	io.ReadSeeker
	io.Closer
	Name    string
	Size    int64
	ModTime time.Time
}

// Store opens boot programs and assets.
type Store struct {
	dir       string // the user's assets folder; "" for none
	systemDir string // "" for Debian's folders (see systemDirs)
	boot      fs.FS
	log       logrus.FieldLogger
	generated map[string]*generated // made by the store (generated.go)
}

// New returns a Store serving the folder dir (may be "") plus the boot
// programs.
func New(dir string, log logrus.FieldLogger) *Store {
	sub, _ := fs.Sub(embedded, "boot")
	return &Store{dir: dir, boot: sub, log: log}
}

// WithSystemDir returns a copy of s that looks for boot programs missing from
// the binary in dir instead of Debian's folders (for tests).
func (s *Store) WithSystemDir(dir string) *Store {
	c := *s
	c.systemDir = dir
	return &c
}

// WithoutEmbedded returns a copy of s that ignores the embedded programs
// (for tests).
func (s *Store) WithoutEmbedded() *Store {
	c := *s
	c.boot = emptyFS{}
	return &c
}

// Clean turns a requested name into a slash-separated path relative to the
// asset root, or returns ErrUnsafe. It rejects NUL bytes, backslashes,
// absolute paths and any ".." element, rather than resolving them: a client
// that asks for one is probing, not booting.
func Clean(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\x00\\") {
		return "", fmt.Errorf("%q: %w", name, ErrUnsafe)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%q: %w", name, ErrUnsafe)
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", fmt.Errorf("%q: %w", name, ErrUnsafe)
		}
	}
	c := path.Clean(name)
	if c == "." {
		return "", fmt.Errorf("%q: %w", name, ErrNotFound)
	}
	return c, nil
}

// Open opens name: first the assets folder, then the boot programs embedded
// in the binary, then Debian's copies in the system folder, then the files
// the store generates (WithGenerated). A name that
// is not safe (see Clean) or resolves through a symlink out of the assets
// folder is refused with ErrUnsafe.
func (s *Store) Open(name string) (*File, error) {
	rel, err := Clean(name)
	if err != nil {
		return nil, err
	}
	if s.dir != "" {
		f, err := s.openInDir(rel)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return f, err
		}
	}
	if isBootProgram(rel) {
		return s.openBootProgram(rel)
	}
	if g := s.generated[rel]; g != nil {
		return s.openGenerated(g, rel)
	}
	return nil, fmt.Errorf("%s: %w", rel, ErrNotFound)
}

// openInDir opens rel inside the assets folder through os.Root, which
// resolves every path element, symlinks included, below the folder in the
// same walk that opens the file: no symlink can lead out of it, not even
// one swapped in between a check and the open.
func (s *Store) openInDir(rel string) (*File, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("assets folder %s: %w", s.dir, ErrNotFound)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(rel))
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("%s: %w", rel, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("%s: %v: %w", rel, err, ErrUnsafe)
	}
	return statFile(f, rel)
}

// openBootProgram opens an embedded boot program, or Debian's copy.
func (s *Store) openBootProgram(rel string) (*File, error) {
	if f, err := s.boot.Open(rel); err == nil {
		st, err := f.Stat()
		if err == nil {
			if rs, ok := f.(io.ReadSeeker); ok {
				return &File{ReadSeeker: rs, Closer: f, Name: rel, Size: st.Size(), ModTime: st.ModTime()}, nil
			}
		}
		f.Close()
	}
	full := s.systemPath(rel)
	f, err := openOS(full, rel)
	if err != nil {
		s.log.WithField("file", rel).Warnf("boot program %s is neither embedded nor at %s: run `make assets` or apt-get install ipxe pxelinux syslinux-common shim-signed grub-efi-amd64-signed", rel, full)
	}
	return f, err
}

// systemPath is where a boot program missing from the binary is looked
// for.
func (s *Store) systemPath(rel string) string {
	if s.systemDir == "" {
		if p, ok := systemFiles[rel]; ok {
			return p
		}
	}
	return filepath.Join(s.systemDirOf(rel), rel)
}

// systemDirOf is the folder a boot program missing from the binary is
// looked for in.
func (s *Store) systemDirOf(rel string) string {
	if s.systemDir != "" {
		return s.systemDir
	}
	if d, ok := systemDirs[rel]; ok {
		return d
	}
	return SystemDir
}

func openOS(full, rel string) (*File, error) {
	f, err := os.Open(full)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, ErrNotFound)
	}
	return statFile(f, rel)
}

// statFile makes an open regular file a File, closing anything else.
func statFile(f *os.File, rel string) (*File, error) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", rel, ErrNotFound)
	}
	return &File{ReadSeeker: f, Closer: f, Name: rel, Size: st.Size(), ModTime: st.ModTime()}, nil
}

func isBootProgram(name string) bool {
	for _, p := range BootPrograms {
		if p == name {
			return true
		}
	}
	return false
}

// Embedded lists the boot programs built into this binary.
func (s *Store) Embedded() []string {
	var out []string
	for _, p := range BootPrograms {
		if _, err := fs.Stat(s.boot, p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) { return nil, fs.ErrNotExist }
