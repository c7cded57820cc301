package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/leases"
)

// sharedStore is a leases.Shared over Mem: others holds addresses bound
// by another server's clients, and a binding of one of them is refused
// as the etcd store refuses it.
type sharedStore struct {
	*leases.Mem
	others map[netip.Addr]bool
	// won: addresses another server bound that the mirror has not seen.
	won map[netip.Addr]bool
	// holding: what other servers bound to clients, by client key.
	holding map[string]netip.Addr
}

func (s *sharedStore) Taken(ip netip.Addr, _ string, _ time.Time) bool { return s.others[ip] }

func (s *sharedStore) Holding(key string, _ time.Time) (netip.Addr, bool) {
	ip, ok := s.holding[key]
	return ip, ok
}

func (s *sharedStore) Allocate(l leases.Lease) error {
	if s.others[l.IP] || s.won[l.IP] {
		return fmt.Errorf("%s: %w", l.IP, leases.ErrTaken)
	}
	return s.Mem.Allocate(l)
}

func holder(i byte) Holder {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0, 0, i}
	return Holder{Key: leases.ClientKey(nil, mac), MAC: mac}
}

func sharedPool(st leases.Store, prefer func(netip.Addr) bool) *Pool {
	clock := time.Unix(1_900_000_000, 0)
	return NewPool(PoolConfig{
		Ranges:    []config.AddrRange{{First: netip.MustParseAddr("10.0.0.10"), Last: netip.MustParseAddr("10.0.0.13")}},
		OfferHold: time.Minute, DeclineHold: time.Minute, Now: func() time.Time { return clock }, Store: st, Prefer: prefer,
	})
}

func TestPoolSkipsAddressesOfOtherServers(t *testing.T) {
	st := &sharedStore{Mem: leases.NewMem(), others: map[netip.Addr]bool{
		netip.MustParseAddr("10.0.0.10"): true, netip.MustParseAddr("10.0.0.11"): true}}
	p := sharedPool(st, nil)
	ip, _, err := p.Offer(holder(1), netip.MustParseAddr("10.0.0.10"))
	if err != nil || ip != netip.MustParseAddr("10.0.0.12") {
		t.Fatalf("Offer = %v, %v; want 10.0.0.12 (10 and 11 are another server's, 10 requested)", ip, err)
	}
	// The other server wins a race the mirror had not seen yet.
	st.won = map[netip.Addr]bool{netip.MustParseAddr("10.0.0.13"): true}
	err = p.Bind(holder(2), netip.MustParseAddr("10.0.0.13"), time.Hour)
	if !errors.Is(err, ErrNotAvailable) || !errors.Is(err, leases.ErrTaken) {
		t.Fatalf("Bind of an address another server won: %v, want ErrNotAvailable and leases.ErrTaken (a NAK)", err)
	}
	if p.Has(holder(2).Key) {
		t.Error("the pool still holds the lost address for the client")
	}
}

func TestPoolPrefersItsOwnAddresses(t *testing.T) {
	odd := func(a netip.Addr) bool { return a.As4()[3]%2 == 1 }
	p := sharedPool(leases.NewMem(), odd)
	var got []string
	for i := range 4 {
		ip, _, err := p.Offer(holder(byte(i)), netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip.String())
	}
	want := "[10.0.0.11 10.0.0.13 10.0.0.10 10.0.0.12]"
	if fmt.Sprint(got) != want {
		t.Errorf("offers %v, want %s (preferred odd addresses first, then the rest)", got, want)
	}
}

// TestPoolTakesOverAnotherServersClient: a client another server bound is
// offered its address again here, and a rebooting one is ACKed for it.
func TestPoolTakesOverAnotherServersClient(t *testing.T) {
	st := &sharedStore{Mem: leases.NewMem(), holding: map[string]netip.Addr{holder(7).Key: netip.MustParseAddr("10.0.0.12")}}
	p := sharedPool(st, nil)
	if ip, ok := p.Current(holder(7).Key); !ok || ip != netip.MustParseAddr("10.0.0.12") {
		t.Fatalf("Current = %v %v, want the address the shared store shows", ip, ok)
	}
	ip, known, err := p.Offer(holder(7), netip.Addr{})
	if err != nil || ip != netip.MustParseAddr("10.0.0.12") || !known {
		t.Fatalf("Offer = %v known=%v %v; want 10.0.0.12, known (no probe)", ip, known, err)
	}
	if err := p.Bind(holder(7), ip, time.Hour); err != nil {
		t.Fatalf("Bind: %v", err)
	}
}
