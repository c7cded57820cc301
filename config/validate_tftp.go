package config

import "strings"

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

// pxelinuxProfile checks what a generated pxelinux.cfg file cannot hold:
// https URLs (lpxelinux.0 fetches http:// and TFTP only), spaces in file
// names, commas in initrds (initrd= separates them with commas) and line
// breaks in the command line (they would start new directives).
func (v *validator) pxelinuxProfile(p string, pr *Profile) {
	fileRef := func(fp, ref string) {
		switch {
		case strings.HasPrefix(ref, "https://"):
			v.errorf(fp, "%q: PXELINUX (lpxelinux.0) cannot fetch https:// URLs; use http:// or a file of server.assets", ref)
		case strings.ContainsAny(ref, " \t\r\n"):
			v.errorf(fp, "%q: a PXELINUX file name cannot hold spaces or line breaks", ref)
		}
	}
	fileRef(keyPath(p, "kernel"), pr.Kernel)
	for i, f := range pr.Initrd {
		fp := indexPath(keyPath(p, "initrd"), i)
		fileRef(fp, f)
		if strings.Contains(f, ",") {
			v.errorf(fp, "%q: PXELINUX's initrd= separates files with commas, so a name cannot hold one", f)
		}
	}
	if strings.ContainsAny(pr.Cmdline, "\r\n") {
		v.errorf(keyPath(p, "cmdline"), "must be one line for PXELINUX's APPEND")
	}
}
