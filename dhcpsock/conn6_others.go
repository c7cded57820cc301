//go:build !linux

package dhcpsock

import (
	"net"
	"net/netip"

	"github.com/rackboot/rackboot/dhcp6"
)

// Conn6 is the Linux DHCPv6 socket; elsewhere it cannot be opened.
type Conn6 struct{}

var _ dhcp6.Conn = (*Conn6)(nil)

// Listen6 reports that the DHCPv6 socket needs Linux.
func Listen6(*net.Interface) (*Conn6, error) { return nil, errNotLinux }

// Port is 0.
func (*Conn6) Port() int { return 0 }

// ReadRequest fails.
func (*Conn6) ReadRequest() ([]byte, dhcp6.Source, error) { return nil, dhcp6.Source{}, errNotLinux }

// Send fails.
func (*Conn6) Send([]byte, netip.AddrPort) error { return errNotLinux }

// Close does nothing.
func (*Conn6) Close() error { return nil }
