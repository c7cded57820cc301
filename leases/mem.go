package leases

import (
	"net/netip"
	"slices"
	"sync"
)

// Mem is a Store that keeps leases in memory only, for tests. Fail, when
// set, makes every change fail with its error.
type Mem struct {
	mu     sync.Mutex
	latest map[netip.Addr]Lease
	// Log is every change in order.
	Log  []Lease
	Fail error
}

var _ Store = (*Mem)(nil)

// NewMem returns an empty Mem, or one holding the given leases.
func NewMem(initial ...Lease) *Mem {
	m := &Mem{latest: map[netip.Addr]Lease{}}
	for _, l := range initial {
		m.latest[l.IP] = l
	}
	return m
}

func (m *Mem) put(l Lease, s State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	l.State = s
	l.MAC, l.ClientID = slices.Clone(l.MAC), slices.Clone(l.ClientID)
	m.latest[l.IP] = l
	m.Log = append(m.Log, l)
	return nil
}

// Allocate implements Store.
func (m *Mem) Allocate(l Lease) error { return m.put(l, Bound) }

// Renew implements Store.
func (m *Mem) Renew(l Lease) error { return m.put(l, Bound) }

// Release implements Store.
func (m *Mem) Release(l Lease) error { return m.put(l, Released) }

// Expire implements Store.
func (m *Mem) Expire(l Lease) error { return m.put(l, Expired) }

// Decline implements Store.
func (m *Mem) Decline(l Lease) error { return m.put(l, Declined) }

// List implements Store.
func (m *Mem) List() ([]Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sorted(m.latest), nil
}

// Close implements Store.
func (m *Mem) Close() error { return nil }

// Changes returns a copy of Log.
func (m *Mem) Changes() []Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.Log)
}
