// Package pxelinux generates PXELINUX configuration files from the
// inventory: it parses the names PXELINUX asks for under pxelinux.cfg/,
// resolves each to one machine's boot decision, and renders that decision
// as a configuration file. It does no I/O.
package pxelinux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/rackboot/rackboot/boot"
)

// Dir is the folder, relative to the TFTP root, PXELINUX reads its
// configuration from.
const Dir = "pxelinux.cfg/"

// ErrNotFound is wrapped by every error of Resolve: the client is to try its
// next name (TFTP error 1, "file not found").
var ErrNotFound = errors.New("no generated pxelinux.cfg file")

// Kind says what a configuration file name encodes.
type Kind int

// The kinds of name, in the order PXELINUX tries them (SYSLINUX
// documentation, "PXELINUX", configuration file search order).
const (
	KindUUID    Kind = iota + 1 // the client UUID, lower-case 8-4-4-4-12
	KindMAC                     // "01-" (ARP type Ethernet) and the MAC, lower-case, hyphenated
	KindHexIP                   // the IPv4 address as 8 upper-case hex digits, or a prefix of them
	KindDefault                 // "default"
)

func (k Kind) String() string {
	switch k {
	case KindUUID:
		return "uuid"
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
	UUID string           // KindUUID, lower-case
	MAC  net.HardwareAddr // KindMAC
	Hex  string           // KindHexIP, upper-case, 1 to 8 digits
}

var (
	uuidName = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	macName  = regexp.MustCompile(`^01(-[0-9a-fA-F]{2}){6}$`)
	hexName  = regexp.MustCompile(`^[0-9a-fA-F]{1,8}$`)
)

// ParseName parses the part of a requested name after pxelinux.cfg/. Any
// other name wraps ErrNotFound.
func ParseName(s string) (Name, error) {
	switch {
	case s == "default":
		return Name{Kind: KindDefault}, nil
	case uuidName.MatchString(s):
		return Name{Kind: KindUUID, UUID: strings.ToLower(s)}, nil
	case macName.MatchString(s):
		mac, err := net.ParseMAC(strings.ReplaceAll(s[3:], "-", ":"))
		if err != nil {
			return Name{}, fmt.Errorf("%s%s: %w", Dir, s, ErrNotFound)
		}
		return Name{Kind: KindMAC, MAC: mac}, nil
	case hexName.MatchString(s):
		return Name{Kind: KindHexIP, Hex: strings.ToUpper(s)}, nil
	}
	return Name{}, fmt.Errorf("%s%s is not a name PXELINUX asks for: %w", Dir, s, ErrNotFound)
}

// HexIP is an IPv4 address as PXELINUX writes it: 8 upper-case hex digits
// (192.0.2.91 is C000025B).
func HexIP(a netip.Addr) string { return boot.HexIP(a) }
