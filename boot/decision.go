package boot

import (
	"github.com/rackboot/rackboot/config"
)

// Source says which rule of Decide chose the profile.
type Source int

// Sources, in Decide's order of precedence.
const (
	// SourceNone: no rule gave a profile (Decision.Reason says why).
	SourceNone Source = iota
	// SourceMachine: the machine's own entry names the profile.
	SourceMachine
	// SourceGroup: a group's selector matched (Decision.Group names it).
	SourceGroup
	// SourceDefault: default_profile.
	SourceDefault
)

func (s Source) String() string {
	switch s {
	case SourceMachine:
		return "machine"
	case SourceGroup:
		return "group"
	case SourceDefault:
		return "default_profile"
	}
	return "none"
}

// Step is what a client loads next.
type Step int

// Steps.
const (
	// StepNone: nothing to boot for this request (Next.Why says why); a
	// DHCP client still gets its address in full mode.
	StepNone Step = iota
	// StepTFTP: a boot program (Next.Program) from next-server over TFTP.
	StepTFTP
	// StepHTTPProgram: a boot program from a URL (Next.URL), UEFI HTTP Boot.
	StepHTTPProgram
	// StepScript: iPXE's script at Next.URL.
	StepScript
	// StepPXELINUXConfig: a generated pxelinux.cfg for Decision.Profile.
	StepPXELINUXConfig
	// StepGRUBConfig: a generated grub.cfg for Decision.Profile.
	StepGRUBConfig
)

func (s Step) String() string {
	switch s {
	case StepTFTP:
		return "tftp program"
	case StepHTTPProgram:
		return "http program"
	case StepScript:
		return "ipxe script"
	case StepPXELINUXConfig:
		return "pxelinux config"
	case StepGRUBConfig:
		return "grub config"
	}
	return "none"
}

// Next is the step a client takes next.
type Next struct {
	Step Step
	// Program is the boot program's file name (StepTFTP, StepHTTPProgram).
	Program string
	// URL is the program's URL (StepHTTPProgram) or the script's
	// (StepScript).
	URL string
	// Loader is the loader the program belongs to (config.LoaderIPXE,
	// config.LoaderPXELINUX).
	Loader string
	// Why explains StepNone.
	Why string
}

// Decision is everything Decide concluded for one request.
type Decision struct {
	// Profile is what the machine boots; nil means no boot (see Reason).
	Profile *config.Profile
	// Machine is the inventory entry for the client, or nil.
	Machine *config.Machine
	// Source is the rule that chose Profile; Group names the group for
	// SourceGroup.
	Source Source
	Group  string
	// Menu names the menu profile whose item Profile is, when a machine
	// picked one item of its menu.
	Menu string
	// Reason explains a nil Profile.
	Reason string
	// SecureBoot: the machine, or a group its facts match, says
	// secure_boot: true.
	SecureBoot bool
	// Next is what the client loads next.
	Next Next
}

// Via describes how the profile was chosen, for logs and generated files:
// "machine", "group NAME" or "default_profile".
func (d Decision) Via() string {
	s := d.Source.String()
	if d.Source == SourceGroup {
		s = "group " + d.Group
	}
	if d.Menu != "" {
		s += ", menu " + d.Menu
	}
	return s
}

// Loader is the loader in force: the machine's, else the profile's; ""
// when neither says (iPXE, or the GRUB chain under SecureBoot).
func (d Decision) Loader() string {
	if d.Machine != nil && d.Machine.Loader != "" {
		return d.Machine.Loader
	}
	if d.Profile != nil {
		return d.Profile.Loader
	}
	return ""
}

// BootMethod is the boot_method in force: the machine's, else the
// profile's; "" when neither says.
func (d Decision) BootMethod() string {
	if d.Machine != nil && d.Machine.BootMethod != "" {
		return d.Machine.BootMethod
	}
	if d.Profile != nil {
		return d.Profile.BootMethod
	}
	return ""
}

// ProfileName is the profile's name, "" when there is none (a client held
// for discovery gets a boot step without one).
func (d Decision) ProfileName() string {
	if d.Profile == nil {
		return ""
	}
	return d.Profile.Name
}
