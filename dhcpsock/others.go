//go:build !linux

// Package dhcpsock is rackboot's Linux DHCP socket code: requests read
// through an AF_PACKET socket with a BPF filter, replies sent as frames or
// through UDP, and ARP/ICMP conflict probes. Elsewhere it only reports that
// it needs Linux.
package dhcpsock

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/rackboot/rackboot/dhcpwire"
)

var errNotLinux = errors.New("raw DHCP sockets need Linux (AF_PACKET)")

// RawConn is the Linux raw DHCP socket; elsewhere it cannot be opened.
type RawConn struct{}

var _ dhcpwire.Conn = (*RawConn)(nil)

// ListenRaw reports that raw sockets need Linux.
func ListenRaw(*net.Interface, netip.Addr, bool) (*RawConn, error) { return nil, errNotLinux }

// ReadRequest implements dhcpwire.Conn.
func (*RawConn) ReadRequest() ([]byte, netip.AddrPort, error) {
	return nil, netip.AddrPort{}, errNotLinux
}

// Send implements dhcpwire.Conn.
func (*RawConn) Send([]byte, dhcpwire.Delivery) error { return errNotLinux }

// Close implements dhcpwire.Conn.
func (*RawConn) Close() error { return nil }

// NetProber is the Linux ARP/ICMP prober; elsewhere it cannot be opened.
type NetProber struct{}

// NewNetProber reports that probes need Linux.
func NewNetProber(*net.Interface) (*NetProber, error) { return nil, errNotLinux }

// ICMP reports whether relayed subnets are probed.
func (*NetProber) ICMP() bool { return false }

// InUse reports nothing in use.
func (*NetProber) InUse(netip.Addr, bool, time.Duration) bool { return false }

// Close does nothing.
func (*NetProber) Close() error { return nil }
