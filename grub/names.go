// Package grub generates GRUB configuration files from the inventory for
// the signed Secure Boot chain (Shim, then GRUB's network image): it parses
// the names GRUB asks for, resolves each to one machine's boot decision and
// renders that decision in GRUB's script language. It does no I/O.
package grub

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Dir is GRUB's built-in prefix, relative to the TFTP root: Debian's
// signed network image looks for (tftp,SERVER)/grub/grub.cfg.
const Dir = "grub/"

// Config is the name, under Dir, GRUB reads first.
const Config = "grub.cfg"

// ErrNotFound is wrapped by every error of Resolve: the client is to try its
// next name (TFTP error 1, "file not found").
var ErrNotFound = errors.New("no generated grub.cfg file")

// Kind says what a configuration file name encodes.
type Kind int

// The kinds of name, in the order GRUB tries them when a config runs
// `normal` without an argument (grub_net_search_config_file).
const (
	KindMAC     Kind = iota + 1 // grub.cfg-01-<MAC, lower-case, hyphenated>
	KindHexIP                   // grub.cfg-<IPv4 as 8 upper-case hex digits, or a prefix of them>
	KindDefault                 // grub.cfg
)

func (k Kind) String() string {
	switch k {
	case KindMAC:
		return "mac"
	case KindHexIP:
		return "hex-ip"
	case KindDefault:
		return "default"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Name is a parsed configuration file name.
type Name struct {
	Kind Kind
	MAC  net.HardwareAddr // KindMAC
	Hex  string           // KindHexIP, upper-case, 1 to 8 digits
}

var (
	macName = regexp.MustCompile(`^01(-[0-9a-fA-F]{2}){6}$`)
	hexName = regexp.MustCompile(`^[0-9A-F]{1,8}$`)
)

// ParseName parses the part of a requested name after Dir. Any other name
// (GRUB also probes x86_64-efi/*.lst and its modules there) wraps
// ErrNotFound.
func ParseName(s string) (Name, error) {
	if s == Config {
		return Name{Kind: KindDefault}, nil
	}
	rest, ok := strings.CutPrefix(s, Config+"-")
	switch {
	case !ok:
	case macName.MatchString(rest):
		mac, err := net.ParseMAC(strings.ReplaceAll(rest[3:], "-", ":"))
		if err == nil {
			return Name{Kind: KindMAC, MAC: mac}, nil
		}
	case hexName.MatchString(rest):
		return Name{Kind: KindHexIP, Hex: rest}, nil
	}
	return Name{}, fmt.Errorf("%s%s is not a config name rackboot generates: %w", Dir, s, ErrNotFound)
}

// MACName is the per-MAC name under Dir: grub.cfg-01-52-54-00-12-34-56.
func MACName(mac net.HardwareAddr) string {
	return Config + "-01-" + strings.ReplaceAll(strings.ToLower(mac.String()), ":", "-")
}
