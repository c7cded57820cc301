package pxelinux

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// Resolver answers PXELINUX's configuration requests from the inventory.
type Resolver struct {
	inventory func() *boot.Inventory
	cmdline   func(boot.Decision) (string, error)
}

// NewResolver returns a resolver that reads the current inventory from inv
// at every request (a reload swaps it; a request keeps the one it started
// with).
func NewResolver(inv func() *boot.Inventory) *Resolver {
	return &Resolver{inventory: inv}
}

// WithCmdline returns a copy of r that takes each kernel command line from
// f (for instance, the profile's cmdline rendered as a template) instead of
// the profile's cmdline as written.
func (r *Resolver) WithCmdline(f func(boot.Decision) (string, error)) *Resolver {
	c := *r
	c.cmdline = f
	return &c
}

// Result is a generated configuration file and where it came from.
type Result struct {
	Body     []byte
	Name     Name
	Decision boot.Decision
}

// Resolve returns the configuration file for name, the part of a TFTP read
// request after pxelinux.cfg/, asked by the client at address client (its
// TFTP source address; may be invalid when unknown).
//
// A name resolves only when what it encodes identifies the client, so that
// PXELINUX, which takes the first name that exists, reaches the most
// specific one:
//   - a UUID: the machine with that uuid, else a group selecting that uuid;
//   - 01-MAC: the machine with that MAC, else a group its MAC (and arch 0,
//     BIOS: PXELINUX runs on nothing else) selects;
//   - 8 hex digits: the machine with that fixed ipv4; fewer digits: the
//     machine whose fixed ipv4 is the client's address, when that address
//     starts with them;
//   - default: the machine whose fixed ipv4 is the client's address, else
//     what the inventory gives an unknown BIOS client (groups on arch,
//     default_profile).
//
// Every error wraps ErrNotFound and says why.
func (r *Resolver) Resolve(name string, client netip.Addr) (Result, error) {
	n, err := ParseName(name)
	if err != nil {
		return Result{}, err
	}
	inv := r.inventory()
	d, err := decide(inv, n, client)
	if err != nil {
		return Result{}, fmt.Errorf("%s%s for %s: %w", Dir, name, clientString(client), err)
	}
	body, err := r.render(d)
	if err != nil {
		return Result{}, fmt.Errorf("%s%s for %s: %v: %w", Dir, name, clientString(client), err, ErrNotFound)
	}
	return Result{Body: body, Name: n, Decision: d}, nil
}

// render renders d, with the command line from r.cmdline when set.
func (r *Resolver) render(d boot.Decision) ([]byte, error) {
	if r.cmdline != nil && d.Profile != nil && d.Profile.Kernel != "" {
		c, err := r.cmdline(d)
		if err != nil {
			return nil, err
		}
		p := *d.Profile
		p.Cmdline = c
		d.Profile = &p
	}
	return Render(d)
}

// decide maps a parsed name and the client's address to a decision.
func decide(inv *boot.Inventory, n Name, client netip.Addr) (boot.Decision, error) {
	switch n.Kind {
	case KindUUID:
		if m := inv.MachineByUUID(n.UUID); m != nil {
			return decideMachine(inv, m)
		}
		return decideGroup(inv, boot.Facts{UUID: n.UUID}, "uuid "+n.UUID)
	case KindMAC:
		if m := inv.Machine(n.MAC); m != nil {
			return decideMachine(inv, m)
		}
		return decideGroup(inv, boot.Facts{MAC: n.MAC}, "MAC "+n.MAC.String())
	case KindHexIP:
		return decideHexIP(inv, n.Hex, client)
	case KindDefault:
		if m := inv.MachineByAddr(client); m != nil {
			return decideMachine(inv, m)
		}
		return decided(inv.Decide(pxelinuxFacts(boot.Facts{}), boot.Server{}), "an unknown client")
	}
	return boot.Decision{}, fmt.Errorf("unknown name kind %v: %w", n.Kind, ErrNotFound)
}

// decideHexIP resolves an address name: all 8 digits name a fixed address;
// a prefix stands for the asking client, when its address has that prefix.
func decideHexIP(inv *boot.Inventory, hex string, client netip.Addr) (boot.Decision, error) {
	addr := client
	if len(hex) == 8 {
		addr = boot.AddrOfHex(hex)
	} else if !client.Is4() || !strings.HasPrefix(HexIP(client), hex) {
		return boot.Decision{}, fmt.Errorf("prefix %s is not the client's address: %w", hex, ErrNotFound)
	}
	if m := inv.MachineByAddr(addr); m != nil {
		return decideMachine(inv, m)
	}
	return boot.Decision{}, fmt.Errorf("no machine has the fixed ipv4 %s: %w", addr, ErrNotFound)
}

// decideMachine is the decision for a known machine, as a BIOS client.
func decideMachine(inv *boot.Inventory, m *config.Machine) (boot.Decision, error) {
	return decided(inv.Decide(pxelinuxFacts(boot.Facts{MAC: m.HWAddr, UUID: m.UUID, Hostname: m.Hostname}), boot.Server{}), "machine "+m.MAC)
}

// decided accepts a decision whose next step is a PXELINUX config.
func decided(d boot.Decision, who string) (boot.Decision, error) {
	if d.Next.Step != boot.StepPXELINUXConfig {
		return d, fmt.Errorf("%s: %s: %w", who, d.Next.Why, ErrNotFound)
	}
	return d, nil
}

// decideGroup is the decision for an unknown client by what one name
// says; only a group counts, so that default_profile is left to "default"
// and PXELINUX goes on to its more specific names first.
func decideGroup(inv *boot.Inventory, f boot.Facts, what string) (boot.Decision, error) {
	d := inv.Decide(pxelinuxFacts(f), boot.Server{})
	if d.Source != boot.SourceGroup {
		return boot.Decision{}, fmt.Errorf("no machine or group for %s: %w", what, ErrNotFound)
	}
	return decided(d, what)
}

// pxelinuxFacts marks a request as PXELINUX's, with arch 0 (BIOS):
// pxelinux.0 runs on nothing else.
func pxelinuxFacts(f boot.Facts) boot.Facts {
	f.Class, f.Arch, f.HasArch = boot.ClassPXELINUX, boot.ArchBIOS, true
	return f
}

func clientString(a netip.Addr) string {
	if !a.IsValid() {
		return "an unknown client"
	}
	return a.String()
}
