package boot

import "fmt"

// Arch is a client system architecture type, DHCP option 93 (RFC 4578
// section 2.1, IANA "Processor Architecture Types" registry).
type Arch uint16

// Architectures rackboot has a boot program for.
const (
	ArchBIOS       Arch = 0  // Intel x86PC
	ArchEFIIA32    Arch = 6  // EFI IA32
	ArchEFIx64     Arch = 7  // EFI x86-64
	ArchEFIBC      Arch = 9  // EFI x86-64 (historically "EFI BC")
	ArchEFIARM64   Arch = 11 // EFI ARM 64-bit
	ArchEFIx64HTTP Arch = 16 // EFI x86-64 HTTP Boot
)

// BootProgram returns the file name of the iPXE build that firmware of this
// architecture loads over TFTP, or an error when rackboot has none for it.
func BootProgram(a Arch) (string, error) {
	switch a {
	case ArchBIOS:
		return "undionly.kpxe", nil
	case ArchEFIx64, ArchEFIBC:
		return "ipxe.efi", nil
	}
	return "", fmt.Errorf("no boot program for arch %d", a)
}

// IsEFI reports whether firmware of this architecture is UEFI (and so
// needs initrd= on the kernel command line when iPXE boots Linux).
func (a Arch) IsEFI() bool {
	switch a {
	case ArchEFIIA32, ArchEFIx64, ArchEFIBC, 10, ArchEFIARM64, 15, ArchEFIx64HTTP, 17, 18, 19:
		return true
	}
	return false
}
