package config

import (
	"fmt"
	"strings"
)

// badLoader reports a loader value that is none of the known ones.
func (v *validator) badLoader(p, l string) {
	v.errorf(p, "%q is not a loader; use %q, %q, %q or %q", l, LoaderIPXE, LoaderPXELINUX, LoaderGRUB, LoaderAuto)
}

// grubProfile reports what GRUBProblems finds in a loader: grub profile.
func (v *validator) grubProfile(p string, pr *Profile) {
	for _, prob := range GRUBProblems(pr, v.lookupProfile) {
		fp := p
		for _, k := range strings.Split(prob.Field, ".") {
			fp = keyPath(fp, k)
		}
		if prob.Index >= 0 {
			fp = indexPath(fp, prob.Index)
		}
		v.errorf(fp, "%s", prob.Msg)
	}
}

// lookupProfile returns the named profile with its Name set, or nil.
func (v *validator) lookupProfile(name string) *Profile {
	pr, ok := v.cfg.Profiles[name]
	if !ok {
		return nil
	}
	pr.Name = name
	return &pr
}

// machineLoader checks a machine's loader and secure_boot against the
// profile it names.
func (v *validator) machineLoader(p string, m *Machine) {
	pr := v.lookupProfile(m.Profile)
	switch m.Loader {
	case "", LoaderIPXE, LoaderAuto:
	case LoaderPXELINUX:
		if pr != nil && pr.Kernel == "" {
			v.errorf(keyPath(p, "loader"), "pxelinux needs a kernel profile; profile %s is not one", pr.Name)
		}
	case LoaderGRUB:
		if pr != nil && pr.Loader != LoaderGRUB {
			for _, prob := range GRUBProblems(pr, v.lookupProfile) {
				v.errorf(keyPath(p, "loader"), "profile %s cannot boot through GRUB: %s: %s", pr.Name, prob.Field, prob.Msg)
			}
		}
	default:
		v.badLoader(keyPath(p, "loader"), m.Loader)
	}
	if m.SecureBoot {
		v.secureBootProfile(keyPath(p, "secure_boot"), m.Loader, pr)
	}
}

// groupSecureBoot checks that a secure_boot group's profile can boot
// through the signed chain.
func (v *validator) groupSecureBoot(p string, g *Group) {
	if g.SecureBoot {
		v.secureBootProfile(keyPath(p, "secure_boot"), "", v.lookupProfile(g.Profile))
	}
}

// secureBootProfile checks that a Secure Boot machine (machine loader
// override ml, profile pr, which may be nil) gets the signed chain.
func (v *validator) secureBootProfile(p, ml string, pr *Profile) {
	l := ml
	if l == "" && pr != nil {
		l = pr.Loader
	}
	switch l {
	case LoaderIPXE, LoaderPXELINUX:
		v.errorf(p, "Secure Boot firmware refuses %s (it is not signed); use loader grub or auto, or leave loader unset", l)
		return
	}
	if pr == nil || l == LoaderGRUB {
		return // grub profiles are checked where the loader is
	}
	for _, prob := range GRUBProblems(pr, v.lookupProfile) {
		v.errorf(p, "profile %s cannot boot through the signed GRUB chain: %s: %s", pr.Name, prob.Field, prob.Msg)
	}
}

// GRUBProblems lists what keeps a profile from booting through the signed
// GRUB chain, the one rule that validation and rendering share:
//   - Debian's signed GRUB has no http module under Secure Boot ("prohibited
//     by secure boot policy"), so a kernel or initrd must be a file of
//     server.assets, which GRUB reads over TFTP;
//   - chain, script and shell profiles are iPXE's: GRUB cannot run them;
//   - a menu's items must themselves be kernel or local profiles;
//   - file names cannot hold spaces, quotes or control characters, nor the
//     command line control characters (line breaks would start new GRUB
//     commands).
//
// profile looks up a menu's items (nil for an unknown one, reported by the
// menu check).
func GRUBProblems(pr *Profile, profile func(string) *Profile) []FieldProblem {
	return grubProblems(pr, profile, true)
}

func grubProblems(pr *Profile, profile func(string) *Profile, top bool) []FieldProblem {
	var out []FieldProblem
	add := func(field string, i int, format string, args ...any) {
		out = append(out, FieldProblem{field, i, fmt.Sprintf(format, args...)})
	}
	switch {
	case pr.Chain != "":
		add("chain", -1, "a chain profile is an iPXE script; GRUB cannot run it (use loader: ipxe, or a kernel profile)")
	case pr.Script != "":
		add("script", -1, "a script profile is an iPXE script; GRUB cannot run it (use loader: ipxe, or a kernel profile)")
	case pr.Shell:
		add("shell", -1, "the iPXE shell is not there under GRUB (use loader: ipxe)")
	case pr.Menu != nil && !top:
		add("menu", -1, "a GRUB menu item cannot be another menu")
	case pr.Menu != nil:
		for i, item := range pr.Menu.Items {
			it := profile(item)
			if it == nil {
				continue
			}
			for _, prob := range grubProblems(it, profile, false) {
				add("menu.items", i, "profile %s: %s: %s", item, prob.Field, prob.Msg)
			}
		}
	case pr.Kernel != "":
		grubFile(pr.Kernel, func(f string, a ...any) { add("kernel", -1, f, a...) })
		for i, f := range pr.Initrd {
			grubFile(f, func(m string, a ...any) { add("initrd", i, m, a...) })
		}
		if strings.ContainsFunc(pr.Cmdline, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			add("cmdline", -1, "must be one line without control characters for GRUB's linux command")
		}
	}
	return out
}

// grubFile reports, through bad, why GRUB cannot load ref over TFTP.
func grubFile(ref string, bad func(string, ...any)) {
	switch {
	case strings.Contains(ref, "://"):
		bad("%q: Debian's signed GRUB has no http module under Secure Boot (\"prohibited by secure boot policy\"), so loader grub loads kernels and initrds over TFTP; give a file of server.assets", ref)
	case strings.ContainsFunc(ref, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(`'"\$;&|<>(){}`, r) }):
		bad("%q: a file name GRUB loads cannot hold spaces, quotes, backslashes, control characters or any of $;&|<>(){}", ref)
	}
}
