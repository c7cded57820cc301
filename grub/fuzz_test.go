package grub

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// FuzzResolve feeds GRUB config names, as a TFTP client sends them, to
// the resolver: it never panics, every failure is "not found", and every
// file it generates names the profile it boots.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"grub.cfg", "grub.cfg-01-52-54-00-12-34-56", "grub.cfg-C000025B", "grub.cfg-C", "x86_64-efi/fs.lst", "grub.cfg-01-zz", "grub.cfg-\x00"} {
		f.Add(s, []byte{192, 0, 2, 91})
	}
	r := resolver(f, true)
	f.Fuzz(func(t *testing.T, name string, addr []byte) {
		client, _ := netip.AddrFromSlice(addr)
		res, err := r.Resolve(name, client)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Resolve(%q): %v does not wrap ErrNotFound", name, err)
			}
			return
		}
		if res.Decision.Profile == nil || !strings.Contains(string(res.Body), "profile "+res.Decision.Profile.Name) {
			t.Fatalf("Resolve(%q) = %q", name, res.Body)
		}
	})
}
