// Package fatimg builds a FAT16 file system image (no partition table, a
// "superfloppy") from a few files, in memory and byte for byte the same
// for the same input. rackboot serves one to UEFI HTTP Boot as a RAM disk
// (docs/secure-boot.md): the firmware mounts it and starts
// \EFI\BOOT\BOOTX64.EFI.
//
// The layout is Microsoft's FAT specification ("FAT: General Overview of
// On-Disk Format", 1.03): one reserved sector with the BIOS parameter
// block, two FATs, a 512-entry root directory, then the clusters. Names
// are 8.3 short names only; an all-lower-case base or extension is kept
// lower case through the two case bits of the entry (byte 12) that
// Windows, EDK2 and GRUB read.
package fatimg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// File is one file of the image: Path is slash-separated, without a
// leading slash ("EFI/BOOT/BOOTX64.EFI"); folders are made as needed.
type File struct {
	Path string
	Data []byte
}

const (
	sectorSize  = 512
	rootEntries = 512
	entrySize   = 32
	// FAT16 needs 4085 to 65524 clusters (the count alone sets the FAT
	// type).
	minClusters = 4085 + 16
	maxClusters = 65524
	attrDir     = 0x10
	attrArchive = 0x20
	caseLowBase = 0x08
	caseLowExt  = 0x10
	// dosDate is 2020-01-01, the date of every entry, so that the image
	// depends on its files only.
	dosDate = (2020-1980)<<9 | 1<<5 | 1
	// volumeID is fixed for the same reason.
	volumeID = 0x52424f54
)

// node is a folder or a file of the tree being laid out.
type node struct {
	name     [11]byte
	caseBits byte
	dir      bool
	data     []byte
	children []*node
	cluster  uint16 // first cluster; 0 for an empty file
	clusters int
}

// Build returns the image of files, with label (up to 11 characters) as
// the volume label. It fails on a name that is no valid 8.3 name, on a
// path that is both a file and a folder, and when the files need more than
// FAT16 holds.
func Build(files []File, label string) ([]byte, error) {
	root := &node{dir: true}
	for _, f := range files {
		if err := root.add(strings.Split(f.Path, "/"), f.Data, f.Path); err != nil {
			return nil, err
		}
	}
	root.sort()
	if len(root.children) > rootEntries {
		return nil, fmt.Errorf("fatimg: %d entries in the root folder, at most %d", len(root.children), rootEntries)
	}
	spc, clusters, err := geometry(root)
	if err != nil {
		return nil, err
	}
	l := newLayout(spc, clusters)
	img := make([]byte, l.total*sectorSize)
	l.bootSector(img, label)
	fat := make([]uint16, clusters+2)
	fat[0], fat[1] = 0xfff8, 0xffff
	next := uint16(2)
	root.allocate(&next, fat, l.clusterBytes())
	for i := 0; i < 2; i++ {
		off := (1 + i*l.fatSectors) * sectorSize
		for c, v := range fat {
			binary.LittleEndian.PutUint16(img[off+2*c:], v)
		}
	}
	root.write(img, l, nil)
	return img, nil
}

// add puts a file at path parts below n.
func (n *node) add(parts []string, data []byte, full string) error {
	name, cb, err := shortName(parts[0])
	if err != nil {
		return fmt.Errorf("fatimg: %s: %w", full, err)
	}
	var c *node
	for _, k := range n.children {
		if k.name == name {
			c = k
		}
	}
	last := len(parts) == 1
	switch {
	case c == nil:
		c = &node{name: name, caseBits: cb, dir: !last, data: data}
		n.children = append(n.children, c)
		if last {
			return nil
		}
	case last || !c.dir:
		return fmt.Errorf("fatimg: %s: given twice, or both a file and a folder", full)
	}
	return c.add(parts[1:], data, full)
}

// sort orders every folder's entries by name, for a stable image.
func (n *node) sort() {
	sort.Slice(n.children, func(i, j int) bool { return string(n.children[i].name[:]) < string(n.children[j].name[:]) })
	for _, c := range n.children {
		c.sort()
	}
}

// shortName turns s into an 8.3 directory name and its case bits.
func shortName(s string) ([11]byte, byte, error) {
	var out [11]byte
	for i := range out {
		out[i] = ' '
	}
	base, ext, _ := strings.Cut(s, ".")
	if base == "" || len(base) > 8 || len(ext) > 3 || strings.Contains(ext, ".") {
		return out, 0, fmt.Errorf("%q is not an 8.3 name", s)
	}
	var bits byte
	for i, part := range []string{base, ext} {
		up := strings.ToUpper(part)
		switch {
		case part == up:
		case part == strings.ToLower(part):
			bits |= []byte{caseLowBase, caseLowExt}[i]
		default:
			return out, 0, fmt.Errorf("%q mixes upper and lower case", s)
		}
		for _, r := range up {
			if !validChar(r) {
				return out, 0, fmt.Errorf("%q: %q is not allowed in a short name", s, r)
			}
		}
		copy(out[[]int{0, 8}[i]:], up)
	}
	return out, bits, nil
}

func validChar(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'()-@^_`{}~", r)
}

// geometry picks the smallest cluster size (sectors per cluster) that
// holds the tree in at most maxClusters, and the cluster count (at least
// minClusters, so that the image is FAT16).
func geometry(root *node) (spc, clusters int, err error) {
	for spc = 1; spc <= 64; spc *= 2 {
		need := root.need(spc * sectorSize)
		if need <= maxClusters-16 {
			return spc, max(need+16, minClusters), nil
		}
	}
	return 0, 0, errors.New("fatimg: the files need more than a FAT16 image holds")
}

// need is how many clusters n's subtree takes (the root folder itself has
// its own area).
func (n *node) need(cb int) int {
	total := 0
	if n.dir {
		for _, c := range n.children {
			total += c.need(cb)
		}
	}
	return total + n.ownClusters(cb)
}

// ownClusters is how many clusters n itself takes.
func (n *node) ownClusters(cb int) int {
	switch {
	case n.name == [11]byte{}: // the root folder
		return 0
	case n.dir:
		return ceilDiv((len(n.children)+2)*entrySize, cb) // with . and ..
	}
	return ceilDiv(len(n.data), cb)
}

// allocate gives n and its subtree their clusters, in order, chaining
// them in fat.
func (n *node) allocate(next *uint16, fat []uint16, cb int) {
	n.clusters = n.ownClusters(cb)
	if n.clusters > 0 {
		n.cluster = *next
		for i := 0; i < n.clusters; i++ {
			c := *next + uint16(i)
			fat[c] = c + 1
		}
		fat[*next+uint16(n.clusters)-1] = 0xffff
		*next += uint16(n.clusters)
	}
	for _, c := range n.children {
		c.allocate(next, fat, cb)
	}
}

// layout is where each area of the image starts, in sectors.
type layout struct {
	spc, clusters, fatSectors, rootStart, dataStart, total int
}

func newLayout(spc, clusters int) layout {
	l := layout{spc: spc, clusters: clusters}
	l.fatSectors = ceilDiv((clusters+2)*2, sectorSize)
	l.rootStart = 1 + 2*l.fatSectors
	l.dataStart = l.rootStart + rootEntries*entrySize/sectorSize
	l.total = l.dataStart + clusters*spc
	return l
}

func (l layout) clusterBytes() int { return l.spc * sectorSize }

// clusterOffset is the byte offset of cluster c.
func (l layout) clusterOffset(c uint16) int {
	return (l.dataStart + (int(c)-2)*l.spc) * sectorSize
}

// bootSector writes the boot sector: a jump, the BIOS parameter block,
// the FAT16 extended block and the signature (FAT specification section
// 3).
func (l layout) bootSector(img []byte, label string) {
	copy(img, []byte{0xeb, 0x3c, 0x90})
	copy(img[3:11], "RACKBOOT")
	le := binary.LittleEndian
	le.PutUint16(img[11:], sectorSize)
	img[13] = byte(l.spc)
	le.PutUint16(img[14:], 1) // reserved sectors
	img[16] = 2               // FATs
	le.PutUint16(img[17:], rootEntries)
	if l.total < 0x10000 {
		le.PutUint16(img[19:], uint16(l.total))
	} else {
		le.PutUint32(img[32:], uint32(l.total))
	}
	img[21] = 0xf8 // fixed disk
	le.PutUint16(img[22:], uint16(l.fatSectors))
	le.PutUint16(img[24:], 32) // sectors per track
	le.PutUint16(img[26:], 64) // heads
	img[36] = 0x80             // drive number
	img[38] = 0x29             // the next three fields are present
	le.PutUint32(img[39:], volumeID)
	copy(img[43:54], padLabel(label))
	copy(img[54:62], "FAT16   ")
	img[510], img[511] = 0x55, 0xaa
}

func padLabel(s string) string {
	s = strings.ToUpper(s)
	if len(s) > 11 {
		s = s[:11]
	}
	if s == "" {
		s = "NO NAME"
	}
	return s + strings.Repeat(" ", 11-len(s))
}

// write puts n's entries (a folder) or data (a file) into img; parent is
// n's parent folder (nil for the root and its children's "..").
func (n *node) write(img []byte, l layout, parent *node) {
	if !n.dir {
		copy(img[l.clusterOffset(n.cluster):], n.data)
		return
	}
	off := l.rootStart * sectorSize
	if n.cluster != 0 {
		off = l.clusterOffset(n.cluster)
		dot, dotdot := n.entryAs(".          "), &node{dir: true}
		if parent != nil {
			dotdot.cluster = parent.cluster
		}
		dot.putEntry(img[off:])
		dotdot.entryAs("..         ").putEntry(img[off+entrySize:])
		off += 2 * entrySize
	}
	for i, c := range n.children {
		c.putEntry(img[off+i*entrySize:])
		c.write(img, l, n)
	}
}

// entryAs is a copy of n under another raw name (the . and .. entries).
func (n *node) entryAs(raw string) *node {
	c := &node{dir: n.dir, cluster: n.cluster}
	copy(c.name[:], raw)
	return c
}

// putEntry writes n's 32-byte directory entry (FAT specification section
// 6).
func (n *node) putEntry(b []byte) {
	copy(b[:11], n.name[:])
	b[11] = attrArchive
	if n.dir {
		b[11] = attrDir
	}
	b[12] = n.caseBits
	le := binary.LittleEndian
	le.PutUint16(b[16:], dosDate) // created
	le.PutUint16(b[18:], dosDate) // accessed
	le.PutUint16(b[24:], dosDate) // written
	le.PutUint16(b[26:], n.cluster)
	if !n.dir {
		le.PutUint32(b[28:], uint32(len(n.data)))
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
