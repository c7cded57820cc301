package leases

import (
	"errors"
	"net/netip"
	"time"
)

// ErrTaken is returned (wrapped) by a shared Store when the address is
// bound to another client by another server: the binding was refused and
// the caller must not ACK it.
var ErrTaken = errors.New("address is bound to another client by another server")

// ErrUnavailable is returned (wrapped) by a shared Store that cannot reach
// its back end for a change it may not make alone (a new binding).
var ErrUnavailable = errors.New("lease store unreachable")

// Shared is a Store that several servers write at once (the etcd store).
// A server asks it, before it offers an address, whether another server's
// client holds it, so that two servers rarely offer one address (the
// store's compare-and-swap makes sure they never bind it twice).
type Shared interface {
	// Taken reports whether ip is bound or quarantined, unexpired at now,
	// for a client other than key.
	Taken(ip netip.Addr, key string, now time.Time) bool
	// Holding returns the address the client key holds (bound, live at
	// now), whichever server bound it, so that a client another server
	// served keeps its address here.
	Holding(key string, now time.Time) (netip.Addr, bool)
}
