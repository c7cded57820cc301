// Package leases keeps DHCP leases (RFC 2131 section 4.3) on disk. The DHCP
// server decides who gets which address in memory and asks a Store to make
// each decision durable before it answers; the Store never decides.
//
// Log is the durable Store: an append-only write-ahead log with group
// commit, so many concurrent bindings share one fsync. Mem is an in-memory
// Store for tests.
package leases

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// State is where a lease is in its life.
type State uint8

// Lease states.
const (
	// Bound: the address is the client's until Expiry (an ACK was sent).
	Bound State = iota + 1
	// Released: the client gave the address back (RFC 2131 section 4.4.6).
	Released
	// Expired: the lease ran out and the address went back to the pool.
	Expired
	// Declined: the client found the address in use (DHCPDECLINE, RFC 2131
	// section 4.3.3) or a probe got an answer; it is quarantined until
	// Expiry.
	Declined
)

func (s State) String() string {
	switch s {
	case Bound:
		return "bound"
	case Released:
		return "released"
	case Expired:
		return "expired"
	case Declined:
		return "declined"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Lease is the latest known fact about one address.
type Lease struct {
	IP netip.Addr
	// ClientID is option 61 (RFC 2132 section 9.14) when the client sent
	// one; leases are keyed by it, else by MAC.
	ClientID []byte
	MAC      net.HardwareAddr
	State    State
	// Expiry is when a Bound lease ends, or a Declined address is free
	// again. Kept to the second.
	Expiry   time.Time
	Hostname string
}

// Key is what identifies the client: its client identifier when it sent
// one, else its MAC.
func (l Lease) Key() string { return ClientKey(l.ClientID, l.MAC) }

// ClientKey builds the key of a client (see Lease.Key).
func ClientKey(clientID []byte, mac net.HardwareAddr) string {
	if len(clientID) > 0 {
		return "id:" + string(clientID)
	}
	return "hw:" + string(mac)
}

// Store makes lease changes durable. Every method that changes a lease
// returns only once the change is on stable storage (or failed), so a
// caller may answer the client after it returns and lose nothing to a
// crash. Methods are safe for concurrent use.
type Store interface {
	// Allocate records a new binding of l.IP to l's client.
	Allocate(l Lease) error
	// Renew records a binding's new expiry.
	Renew(l Lease) error
	// Release records that the client gave l.IP back.
	Release(l Lease) error
	// Expire records that l.IP's lease ran out.
	Expire(l Lease) error
	// Decline records that l.IP is quarantined until l.Expiry.
	Decline(l Lease) error
	// List returns the latest record of every address, ordered by address.
	List() ([]Lease, error)
	Close() error
}

// Committer is a Store that can also report durability later instead of
// blocking its caller: Commit queues l (with its State set) and calls done
// once l is on stable storage or failed, from another goroutine. A server
// uses it so that no worker waits for the disk.
type Committer interface {
	Commit(l Lease, done func(error))
}
