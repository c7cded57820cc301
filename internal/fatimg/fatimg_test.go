package fatimg

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rackboot/rackboot/internal/golden"
)

// reader reads an image back the way a FAT driver does, from the boot
// sector's fields alone (FAT specification sections 3-6).
type reader struct {
	img                          []byte
	spc, fatStart, root, data    int
	rootEntries, clusters, total int
}

func newReader(t *testing.T, img []byte) *reader {
	t.Helper()
	le := binary.LittleEndian
	if img[510] != 0x55 || img[511] != 0xaa {
		t.Fatal("no boot sector signature")
	}
	bps := int(le.Uint16(img[11:]))
	r := &reader{img: img, spc: int(img[13]), rootEntries: int(le.Uint16(img[17:]))}
	total := int(le.Uint16(img[19:]))
	if total == 0 {
		total = int(le.Uint32(img[32:]))
	}
	fatSecs := int(le.Uint16(img[22:]))
	r.fatStart = int(le.Uint16(img[14:])) * bps
	r.root = r.fatStart + int(img[16])*fatSecs*bps
	r.data = r.root + r.rootEntries*32
	r.total = total * bps
	r.clusters = (total - r.data/bps) / r.spc
	if bps != 512 || r.total != len(img) {
		t.Fatalf("bytes per sector %d, total %d bytes for an image of %d", bps, r.total, len(img))
	}
	return r
}

func (r *reader) next(c uint16) uint16 {
	return binary.LittleEndian.Uint16(r.img[r.fatStart+2*int(c):])
}

// chain reads the clusters from c on.
func (r *reader) chain(t *testing.T, c uint16) []byte {
	t.Helper()
	var out []byte
	for n := 0; c >= 2 && c < 0xfff8; n++ {
		if n > r.clusters {
			t.Fatal("cluster chain loops")
		}
		off := r.data + (int(c)-2)*r.spc*512
		out = append(out, r.img[off:off+r.spc*512]...)
		c = r.next(c)
	}
	return out
}

// walk lists every file under the folder in dir (its entries), with the
// name as a case-aware driver shows it, and their contents.
func (r *reader) walk(t *testing.T, dir []byte, prefix string, files map[string][]byte) {
	t.Helper()
	for i := 0; i+32 <= len(dir); i += 32 {
		e := dir[i : i+32]
		if e[0] == 0 {
			return
		}
		name := string(bytes.TrimRight(e[:8], " "))
		if name == "." || name == ".." {
			continue
		}
		base, ext := name, string(bytes.TrimRight(e[8:11], " "))
		if e[12]&0x08 != 0 {
			base = strings.ToLower(base)
		}
		if e[12]&0x10 != 0 {
			ext = strings.ToLower(ext)
		}
		if ext != "" {
			base += "." + ext
		}
		c := binary.LittleEndian.Uint16(e[26:])
		if e[11]&0x10 != 0 {
			r.walk(t, r.chain(t, c), prefix+base+"/", files)
			continue
		}
		size := binary.LittleEndian.Uint32(e[28:])
		files[prefix+base] = r.chain(t, c)[:size]
	}
}

func (r *reader) files(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	r.walk(t, r.img[r.root:r.data], "", files)
	return files
}

// TestRoundTrip: what Build writes reads back the same, names with their
// case, as FAT16 (4085 to 65524 clusters), for small files and for files
// big enough to need larger clusters.
func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<20) // 48 MiB: more than 65524 clusters of 512 bytes
	tests := []struct {
		name  string
		files []File
	}{
		{"the Secure Boot layout", []File{
			{"EFI/BOOT/BOOTX64.EFI", bytes.Repeat([]byte{1}, 1048504)},
			{"EFI/BOOT/grubx64.efi", bytes.Repeat([]byte{2}, 700001)},
			{"grub/grub.cfg", []byte("configfile $prefix/grub.cfg\n")},
		}},
		{"empty file and a folder with many entries", append([]File{{"EMPTY", nil}}, many(40)...)},
		{"big", []File{{"BIG.BIN", big}, {"small.txt", []byte("x")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Build(tt.files, "rackboot")
			if err != nil {
				t.Fatal(err)
			}
			r := newReader(t, img)
			if r.clusters < 4085 || r.clusters > 65524 {
				t.Errorf("%d clusters: not FAT16", r.clusters)
			}
			got := r.files(t)
			if len(got) != len(tt.files) {
				t.Errorf("%d files read back, want %d: %v", len(got), len(tt.files), keys(got))
			}
			for _, f := range tt.files {
				if !bytes.Equal(got[f.Path], f.Data) && !(len(f.Data) == 0 && len(got[f.Path]) == 0) {
					t.Errorf("%s: %d bytes read back, want %d (or other bytes)", f.Path, len(got[f.Path]), len(f.Data))
				}
			}
			again, _ := Build(tt.files, "rackboot")
			if !bytes.Equal(img, again) {
				t.Error("two builds of the same files differ")
			}
		})
	}
}

func many(n int) []File {
	var out []File
	for i := 0; i < n; i++ {
		out = append(out, File{Path: fmt.Sprintf("DIR/F%d.TXT", i), Data: []byte(strings.Repeat("y", i*100))})
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestBootSectorGolden checks the boot sector and the root folder of the
// Secure Boot layout byte for byte (UPDATE_GOLDEN=1 rewrites
// testdata/secureboot.golden).
func TestBootSectorGolden(t *testing.T) {
	img, err := Build([]File{
		{"EFI/BOOT/BOOTX64.EFI", []byte("shim")},
		{"EFI/BOOT/grubx64.efi", []byte("grub")},
		{"grub/grub.cfg", []byte("cfg\n")},
	}, "rackboot")
	if err != nil {
		t.Fatal(err)
	}
	r := newReader(t, img)
	var b strings.Builder
	fmt.Fprintf(&b, "image: %d bytes, %d sectors per cluster, %d clusters\n\nboot sector:\n%s\nroot folder:\n%s",
		len(img), r.spc, r.clusters, hex.Dump(img[:512]), hex.Dump(img[r.root:r.root+3*32]))
	golden.Check(t, filepath.Join("testdata", "secureboot.golden"), []byte(b.String()))
}

func TestBadNames(t *testing.T) {
	for _, p := range []string{"", "toolongname.efi", "a.long", "MiXed.cfg", "a b", "a/", "x.y.z", "grub.cfg-01-52-54-00-12-34-56"} {
		if _, err := Build([]File{{p, []byte("x")}}, ""); err == nil {
			t.Errorf("%q: no error", p)
		}
	}
	if _, err := Build([]File{{"A/B", nil}, {"A", nil}}, ""); err == nil {
		t.Error("a path that is both a file and a folder: no error")
	}
	if _, err := Build([]File{{"A", nil}, {"A", nil}}, ""); err == nil {
		t.Error("a file given twice: no error")
	}
}
