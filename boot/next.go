package boot

import (
	"fmt"
	"strings"

	"github.com/rackboot/rackboot/config"
)

// The PXELINUX builds Debian's pxelinux package ships.
const (
	// PXELINUXProgram loads everything over TFTP.
	PXELINUXProgram = "pxelinux.0"
	// PXELINUXHTTPProgram (lpxelinux.0) also loads http:// URLs.
	PXELINUXHTTPProgram = "lpxelinux.0"
)

// next works out the next step for a client given its profile (see
// Decide).
func (inv *Inventory) next(f Facts, d Decision, s Server) Next {
	if f.Class == ClassPlain {
		return none("not a PXE, HTTP Boot or iPXE client")
	}
	if d.Profile == nil {
		if d.Source == SourceNone && inv.cfg.Server.DiscoverHold {
			return hold(f, s, d.Reason)
		}
		return none(d.Reason)
	}
	if why := methodRefuses(f, d); why != "" {
		return none(why)
	}
	switch {
	case f.Class == ClassPXELINUX:
		return pxelinuxConfig(d.Profile)
	case f.Class == ClassGRUB:
		return inv.grubConfig(d.Profile)
	case usesPXELINUX(f, d):
		return Next{Step: StepTFTP, Program: pxelinuxProgram(d.Profile), Loader: config.LoaderPXELINUX}
	case f.Class == ClassIPXE:
		return Next{Step: StepScript, URL: s.ScriptURL(), Loader: config.LoaderIPXE}
	}
	if grub, why := inv.usesGRUB(f, d); grub {
		return signedChain(f, s)
	} else if why != "" {
		return none(why)
	}
	return firmwareProgram(f, s)
}

func none(why string) Next { return Next{Step: StepNone, Why: why} }

// hold is the next step, with server.discover_hold, of a network-booting
// client that no rule gives a profile: iPXE gets its script URL (the
// no-profile script, which asks again every few seconds), PXE and HTTP
// Boot firmware the iPXE build that gets there, so that a profile given
// later (the admin API adopting a discovered machine) boots on the next
// retry without anyone touching the machine.
func hold(f Facts, s Server, why string) Next {
	var n Next
	switch f.Class {
	case ClassIPXE:
		n = Next{Step: StepScript, URL: s.ScriptURL(), Loader: config.LoaderIPXE}
	case ClassPXE, ClassHTTP:
		n = firmwareProgram(f, s)
	default:
		return none(why)
	}
	if n.Step != StepNone {
		n.Why = "held until it gets a profile (server.discover_hold): " + why
	}
	return n
}

// methodRefuses applies boot_method to firmware that tries both PXE and
// HTTP Boot, such as OVMF: the request of the other method gets nothing,
// so the firmware moves on. It returns why, or "".
func methodRefuses(f Facts, d Decision) string {
	switch m := d.BootMethod(); {
	case m == config.BootMethodHTTP && f.Class == ClassPXE:
		return "boot_method is http; leaving the PXE request for the firmware's HTTP Boot attempt"
	case m == config.BootMethodPXE && f.Class == ClassHTTP:
		return "boot_method is pxe; leaving the HTTP Boot request for the firmware's PXE attempt"
	}
	return ""
}

// usesPXELINUX reports whether a BIOS client (PXE firmware, or an iPXE ROM,
// which can run it too) boots d's profile through PXELINUX.
func usesPXELINUX(f Facts, d Decision) bool {
	bios := !f.HasArch || f.Arch == ArchBIOS
	return d.Loader() == config.LoaderPXELINUX && bios && (f.Class == ClassPXE || f.Class == ClassIPXE)
}

// pxelinuxProgram is the PXELINUX build p needs: lpxelinux.0 when its
// kernel or an initrd is a URL, else pxelinux.0.
func pxelinuxProgram(p *config.Profile) string {
	if isURL(p.Kernel) {
		return PXELINUXHTTPProgram
	}
	for _, f := range p.Initrd {
		if isURL(f) {
			return PXELINUXHTTPProgram
		}
	}
	return PXELINUXProgram
}

func isURL(s string) bool { return strings.Contains(s, "://") }

// pxelinuxConfig is the step for PXELINUX's config request.
func pxelinuxConfig(p *config.Profile) Next {
	if p.Kernel == "" {
		return none(fmt.Sprintf("profile %s has no kernel; PXELINUX configs are generated for kernel profiles only", p.Name))
	}
	return Next{Step: StepPXELINUXConfig, Loader: config.LoaderPXELINUX}
}

// firmwareProgram picks the iPXE build for PXE or HTTP Boot firmware's
// architecture (HTTP Boot without option 93 is taken for x64) and checks
// that s can serve it.
func firmwareProgram(f Facts, s Server) Next {
	arch := f.Arch
	if !f.HasArch && f.Class == ClassHTTP {
		arch = ArchEFIx64HTTP
	}
	name := archTable[arch].ipxe
	if name == "" {
		return none(fmt.Sprintf("no boot program for arch %s", arch))
	}
	if !s.has(name) {
		return none(fmt.Sprintf("boot program %s for arch %s is not available (make assets, or put it in the assets folder)", name, arch))
	}
	if f.Class == ClassHTTP {
		return Next{Step: StepHTTPProgram, Program: name, URL: s.AssetURL(name), Loader: config.LoaderIPXE}
	}
	return Next{Step: StepTFTP, Program: name, Loader: config.LoaderIPXE}
}
