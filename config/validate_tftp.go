package config

import (
	"fmt"
	"strings"
)

// DefaultTFTPMaxTransfers is server.tftp_max_transfers when not set.
const DefaultTFTPMaxTransfers = 2000

// maxTFTPTransfers is the largest bound accepted: each transfer holds a
// socket (a file descriptor) while it runs.
const maxTFTPTransfers = 100000

// tftp checks the TFTP settings and the profiles PXELINUX boots.
func (v *validator) tftp() {
	s := &v.cfg.Server
	switch {
	case s.TFTPMaxTransfers == 0:
		s.TFTPMaxTransfers = DefaultTFTPMaxTransfers
	case s.TFTPMaxTransfers < 0 || s.TFTPMaxTransfers > maxTFTPTransfers:
		v.errorf("server.tftp_max_transfers", "%d is out of range (1-%d; default %d)", s.TFTPMaxTransfers, maxTFTPTransfers, DefaultTFTPMaxTransfers)
	}
	for _, name := range v.profileNames() {
		if pr := v.cfg.Profiles[name]; pr.Loader == LoaderPXELINUX {
			v.pxelinuxProfile(keyPath("profiles", name), &pr)
		}
	}
}

// pxelinuxProfile reports what PXELINUXProblems finds in a profile.
func (v *validator) pxelinuxProfile(p string, pr *Profile) {
	for _, prob := range PXELINUXProblems(pr) {
		fp := keyPath(p, prob.Field)
		if prob.Index >= 0 {
			fp = indexPath(fp, prob.Index)
		}
		v.errorf(fp, "%s", prob.Msg)
	}
}

// FieldProblem is one value of a profile that cannot be used, and why.
type FieldProblem struct {
	// Field is the profile key ("kernel", "initrd", "cmdline"); Index the
	// list index for initrd, else -1.
	Field string
	Index int
	Msg   string
}

// PXELINUXProblems lists what a generated pxelinux.cfg file cannot hold,
// the one rule that validation and rendering share: https URLs
// (lpxelinux.0 fetches http:// and TFTP only), spaces or control
// characters in file names, commas in initrds (initrd= separates them with
// commas) and control characters, line breaks among them, in the command
// line (they would start new directives). Rendering applies it again to
// the command line after its template ran.
func PXELINUXProblems(pr *Profile) []FieldProblem {
	var out []FieldProblem
	fileRef := func(field string, i int, ref string) {
		switch {
		case strings.HasPrefix(ref, "https://"):
			out = append(out, FieldProblem{field, i, fmt.Sprintf("%q: PXELINUX (lpxelinux.0) cannot fetch https:// URLs; use http:// or a file of server.assets", ref)})
		case strings.ContainsFunc(ref, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			out = append(out, FieldProblem{field, i, fmt.Sprintf("%q: a PXELINUX file name cannot hold spaces or control characters", ref)})
		}
	}
	fileRef("kernel", -1, pr.Kernel)
	for i, f := range pr.Initrd {
		fileRef("initrd", i, f)
		if strings.Contains(f, ",") {
			out = append(out, FieldProblem{"initrd", i, fmt.Sprintf("%q: PXELINUX's initrd= separates files with commas, so a name cannot hold one", f)})
		}
	}
	if strings.ContainsFunc(pr.Cmdline, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		out = append(out, FieldProblem{"cmdline", -1, "must be one line without control characters for PXELINUX's APPEND"})
	}
	return out
}
