package boot

import "fmt"

// Arch is a client system architecture type, DHCP option 93 (RFC 4578
// section 2.1; IANA "Processor Architecture Types" registry).
type Arch uint16

// Architectures named in code.
const (
	ArchBIOS       Arch = 0  // Intel x86PC
	ArchEFIIA32    Arch = 6  // x86 UEFI
	ArchEFIx64     Arch = 7  // x64 UEFI
	ArchEFIBC      Arch = 9  // EBC; x64 firmware sends it too
	ArchEFIARM32   Arch = 10 // ARM 32-bit UEFI
	ArchEFIARM64   Arch = 11 // ARM 64-bit UEFI
	ArchEFIx64HTTP Arch = 16 // x64 UEFI boot from HTTP
)

// Program is the first boot program for one architecture.
type Program struct {
	// Name is the file's name at the TFTP root and under /assets/.
	Name string
	// HTTP is set for the "boot from HTTP" architectures: the firmware
	// loads a URL, not a file from next-server.
	HTTP bool
	// EFI is set for UEFI firmware (iPXE's EFI builds need initrd= on the
	// kernel command line).
	EFI bool
}

// archInfo is one row of the IANA registry as rackboot sees it.
type archInfo struct {
	name string
	prog Program // Name "" means rackboot has no boot program for it
}

// The iPXE builds for each UEFI platform. Debian 12's ipxe package ships
// the x86-64 ones; the others are looked for in the assets folder.
const (
	iPXEBIOS  = "undionly.kpxe"
	iPXEx64   = "ipxe.efi"
	iPXEIA32  = "ipxe-i386.efi"
	iPXEARM32 = "ipxe-arm32.efi"
	iPXEARM64 = "ipxe-arm64.efi"
)

// archTable is the IANA Processor Architecture Types registry (RFC 4578,
// RFC 5970 and later assignments), with the iPXE build that boots each.
var archTable = map[Arch]archInfo{
	0:  {"x86 BIOS", Program{Name: iPXEBIOS}},
	1:  {"NEC/PC98 (deprecated)", Program{}},
	2:  {"Itanium", Program{}},
	3:  {"DEC Alpha (deprecated)", Program{}},
	4:  {"Arc x86 (deprecated)", Program{}},
	5:  {"Intel Lean Client (deprecated)", Program{}},
	6:  {"x86 UEFI", Program{Name: iPXEIA32, EFI: true}},
	7:  {"x64 UEFI", Program{Name: iPXEx64, EFI: true}},
	8:  {"EFI Xscale (deprecated)", Program{}},
	9:  {"EBC", Program{Name: iPXEx64, EFI: true}},
	10: {"ARM 32-bit UEFI", Program{Name: iPXEARM32, EFI: true}},
	11: {"ARM 64-bit UEFI", Program{Name: iPXEARM64, EFI: true}},
	12: {"PowerPC Open Firmware", Program{}},
	13: {"PowerPC ePAPR", Program{}},
	14: {"POWER OPAL v3", Program{}},
	15: {"x86 UEFI boot from HTTP", Program{Name: iPXEIA32, HTTP: true, EFI: true}},
	16: {"x64 UEFI boot from HTTP", Program{Name: iPXEx64, HTTP: true, EFI: true}},
	17: {"EBC boot from HTTP", Program{Name: iPXEx64, HTTP: true, EFI: true}},
	18: {"ARM 32-bit UEFI boot from HTTP", Program{Name: iPXEARM32, HTTP: true, EFI: true}},
	19: {"ARM 64-bit UEFI boot from HTTP", Program{Name: iPXEARM64, HTTP: true, EFI: true}},
	20: {"PC/AT BIOS boot from HTTP", Program{}},
	21: {"ARM 32-bit U-Boot", Program{}},
	22: {"ARM 64-bit U-Boot", Program{}},
	23: {"ARM 32-bit U-Boot boot from HTTP", Program{}},
	24: {"ARM 64-bit U-Boot boot from HTTP", Program{}},
	25: {"RISC-V 32-bit UEFI", Program{}},
	26: {"RISC-V 32-bit UEFI boot from HTTP", Program{}},
	27: {"RISC-V 64-bit UEFI", Program{}},
	28: {"RISC-V 64-bit UEFI boot from HTTP", Program{}},
	29: {"RISC-V 128-bit UEFI", Program{}},
	30: {"RISC-V 128-bit UEFI boot from HTTP", Program{}},
	31: {"s390 Basic", Program{}},
	32: {"s390 Extended", Program{}},
	33: {"MIPS 32-bit UEFI", Program{}},
	34: {"MIPS 64-bit UEFI", Program{}},
	35: {"Sunway 32-bit UEFI", Program{}},
	36: {"Sunway 64-bit UEFI", Program{}},
	37: {"LoongArch 32-bit UEFI", Program{}},
	38: {"LoongArch 32-bit UEFI boot from HTTP", Program{}},
	39: {"LoongArch 64-bit UEFI", Program{}},
	40: {"LoongArch 64-bit UEFI boot from HTTP", Program{}},
	41: {"ARM rpiboot", Program{}},
}

// String names the architecture as the IANA registry does.
func (a Arch) String() string {
	if info, ok := archTable[a]; ok {
		return fmt.Sprintf("%d (%s)", a, info.name)
	}
	return fmt.Sprintf("%d (unassigned)", a)
}

// ProgramFor returns the boot program for firmware of this architecture,
// or an error naming the architecture when rackboot has none.
func ProgramFor(a Arch) (Program, error) {
	info, ok := archTable[a]
	if !ok || info.prog.Name == "" {
		return Program{}, fmt.Errorf("no boot program for arch %s", a)
	}
	return info.prog, nil
}

// BootProgram returns the name of the boot program that firmware of this
// architecture loads, or an error when rackboot has none for it.
func BootProgram(a Arch) (string, error) {
	p, err := ProgramFor(a)
	return p.Name, err
}

// IsEFI reports whether firmware of this architecture is UEFI (and so
// needs initrd= on the kernel command line when iPXE boots Linux).
func (a Arch) IsEFI() bool {
	switch a {
	case ArchEFIIA32, ArchEFIx64, ArchEFIBC, ArchEFIARM32, ArchEFIARM64:
		return true
	}
	return archTable[a].prog.EFI
}

// IsHTTP reports whether the architecture is one of the "boot from HTTP"
// types, whose firmware loads a URL.
func (a Arch) IsHTTP() bool {
	switch a {
	case 15, 16, 17, 18, 19, 20, 23, 24, 26, 28, 30, 38, 40:
		return true
	}
	return false
}
