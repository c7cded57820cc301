package boot

import (
	"fmt"

	"github.com/rackboot/rackboot/config"
)

// The Secure Boot chain, by the names rackboot serves it under. Shim
// (Debian's shim-signed, signed by Microsoft's UEFI CA) takes the folder
// it loads GRUB from out of the BOOTP file field that named it, so GRUB
// (grub-efi-amd64-signed's network image, signed by Debian) is served as
// grubx64.efi beside it.
const (
	SecureBootDir = "secureboot/"
	ShimProgram   = SecureBootDir + "shimx64.efi"
	GRUBProgram   = SecureBootDir + "grubx64.efi"
	// SecureBootImage is what UEFI HTTP Boot gets: a disk image the
	// firmware mounts as a RAM disk, holding Shim as
	// \EFI\BOOT\BOOTX64.EFI, GRUB beside it and a grub.cfg that goes on
	// over TFTP (package grub, Image). The name must end in .img: that is
	// how the firmware tells a disk image from an EFI program.
	SecureBootImage = SecureBootDir + "httpboot.img"
)

// usesGRUB reports whether a UEFI firmware client (PXE or HTTP Boot)
// boots d's profile through the signed chain:
//   - loader grub: always;
//   - loader auto, or none: when d.SecureBoot (the machine or a group
//     says secure_boot: true);
//   - loader auto: also when the firmware refused iPXE (f.RefusedIPXE).
//
// When auto would switch but the profile cannot boot through GRUB, why
// says so (the client would refuse iPXE again).
func (inv *Inventory) usesGRUB(f Facts, d Decision) (grub bool, why string) {
	if !f.EFI() || (f.Class != ClassPXE && f.Class != ClassHTTP) {
		return false, ""
	}
	l := d.Loader()
	switch {
	case l == config.LoaderGRUB:
		return true, ""
	case (l == "" || l == config.LoaderAuto) && d.SecureBoot:
	case l == config.LoaderAuto && f.RefusedIPXE:
	default:
		return false, ""
	}
	if probs := config.GRUBProblems(d.Profile, inv.Profile); len(probs) > 0 {
		return false, fmt.Sprintf("the firmware needs the signed chain (%s), but profile %s cannot boot through GRUB: %s: %s",
			autoCause(d, f), d.Profile.Name, probs[0].Field, probs[0].Msg)
	}
	return true, ""
}

// autoCause says why loader auto chose the signed chain.
func autoCause(d Decision, f Facts) string {
	if d.SecureBoot {
		return "secure_boot: true"
	}
	return "it refused iPXE"
}

// signedChain hands UEFI PXE firmware Shim's name, for TFTP from
// next-server, and UEFI HTTP Boot the URL of SecureBootImage: the signed
// GRUB started by HTTP Boot itself would look for its config over HTTP,
// which it cannot speak (docs/secure-boot.md). Only x64 UEFI has the
// chain.
func signedChain(f Facts, s Server) Next {
	x64 := f.Arch == ArchEFIx64 || f.Arch == ArchEFIBC || f.Arch == ArchEFIx64HTTP || (!f.HasArch && f.Class == ClassHTTP)
	if !x64 {
		return none(fmt.Sprintf("no signed boot chain for arch %s (rackboot has Shim and GRUB for x64 UEFI only)", f.Arch))
	}
	for _, name := range []string{ShimProgram, GRUBProgram} {
		if !s.has(name) {
			return none(fmt.Sprintf("boot program %s of the Secure Boot chain is not available (make assets, or apt-get install shim-signed grub-efi-amd64-signed)", name))
		}
	}
	if f.Class == ClassHTTP {
		if !s.has(SecureBootImage) {
			return none("no " + SecureBootImage + " for UEFI HTTP Boot (rackboot builds it only for an IPv4 server address)")
		}
		return Next{Step: StepHTTPProgram, Program: SecureBootImage, URL: s.AssetURL(SecureBootImage), Loader: config.LoaderGRUB}
	}
	return Next{Step: StepTFTP, Program: ShimProgram, Loader: config.LoaderGRUB}
}

// grubConfig is the step for GRUB's config request: any profile GRUB can
// boot, whichever loader brought GRUB there.
func (inv *Inventory) grubConfig(p *config.Profile) Next {
	if probs := config.GRUBProblems(p, inv.Profile); len(probs) > 0 {
		return none(fmt.Sprintf("profile %s cannot boot through GRUB: %s: %s", p.Name, probs[0].Field, probs[0].Msg))
	}
	return Next{Step: StepGRUBConfig, Loader: config.LoaderGRUB}
}

// secureBoot reports whether the machine, or any group whose selector
// matches attrs, says secure_boot: true.
func (inv *Inventory) secureBoot(m *config.Machine, attrs clientAttrs) bool {
	if m != nil && m.SecureBoot {
		return true
	}
	for i := range inv.cfg.Groups {
		if g := &inv.cfg.Groups[i]; g.SecureBoot && selectorMatches(g.Selector, attrs) {
			return true
		}
	}
	return false
}
