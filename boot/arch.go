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

// archInfo is one row of the IANA registry as rackboot sees it.
type archInfo struct {
	name string
	// ipxe is the iPXE build that boots it; "" means rackboot has none.
	ipxe string
	efi  bool // UEFI firmware
	http bool // a "boot from HTTP" type: the firmware loads a URL
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
	0:  {"x86 BIOS", iPXEBIOS, false, false},
	1:  {"NEC/PC98 (deprecated)", "", false, false},
	2:  {"Itanium", "", false, false},
	3:  {"DEC Alpha (deprecated)", "", false, false},
	4:  {"Arc x86 (deprecated)", "", false, false},
	5:  {"Intel Lean Client (deprecated)", "", false, false},
	6:  {"x86 UEFI", iPXEIA32, true, false},
	7:  {"x64 UEFI", iPXEx64, true, false},
	8:  {"EFI Xscale (deprecated)", "", false, false},
	9:  {"EBC", iPXEx64, true, false},
	10: {"ARM 32-bit UEFI", iPXEARM32, true, false},
	11: {"ARM 64-bit UEFI", iPXEARM64, true, false},
	12: {"PowerPC Open Firmware", "", false, false},
	13: {"PowerPC ePAPR", "", false, false},
	14: {"POWER OPAL v3", "", false, false},
	15: {"x86 UEFI boot from HTTP", iPXEIA32, true, true},
	16: {"x64 UEFI boot from HTTP", iPXEx64, true, true},
	17: {"EBC boot from HTTP", iPXEx64, true, true},
	18: {"ARM 32-bit UEFI boot from HTTP", iPXEARM32, true, true},
	19: {"ARM 64-bit UEFI boot from HTTP", iPXEARM64, true, true},
	20: {"PC/AT BIOS boot from HTTP", "", false, true},
	21: {"ARM 32-bit U-Boot", "", false, false},
	22: {"ARM 64-bit U-Boot", "", false, false},
	23: {"ARM 32-bit U-Boot boot from HTTP", "", false, true},
	24: {"ARM 64-bit U-Boot boot from HTTP", "", false, true},
	25: {"RISC-V 32-bit UEFI", "", true, false},
	26: {"RISC-V 32-bit UEFI boot from HTTP", "", true, true},
	27: {"RISC-V 64-bit UEFI", "", true, false},
	28: {"RISC-V 64-bit UEFI boot from HTTP", "", true, true},
	29: {"RISC-V 128-bit UEFI", "", true, false},
	30: {"RISC-V 128-bit UEFI boot from HTTP", "", true, true},
	31: {"s390 Basic", "", false, false},
	32: {"s390 Extended", "", false, false},
	33: {"MIPS 32-bit UEFI", "", true, false},
	34: {"MIPS 64-bit UEFI", "", true, false},
	35: {"Sunway 32-bit UEFI", "", true, false},
	36: {"Sunway 64-bit UEFI", "", true, false},
	37: {"LoongArch 32-bit UEFI", "", true, false},
	38: {"LoongArch 32-bit UEFI boot from HTTP", "", true, true},
	39: {"LoongArch 64-bit UEFI", "", true, false},
	40: {"LoongArch 64-bit UEFI boot from HTTP", "", true, true},
	41: {"ARM rpiboot", "", false, false},
}

// String names the architecture as the IANA registry does.
func (a Arch) String() string {
	if info, ok := archTable[a]; ok {
		return fmt.Sprintf("%d (%s)", a, info.name)
	}
	return fmt.Sprintf("%d (unassigned)", a)
}
