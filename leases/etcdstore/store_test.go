package etcdstore

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rackboot/rackboot/internal/etcdtest"
	"github.com/rackboot/rackboot/leases"
	"github.com/rackboot/rackboot/leases/storeurl"
)

func open(t *testing.T, c *etcdtest.Cluster, member int, mod func(*Config)) *Store {
	t.Helper()
	tg, err := storeurl.Parse(c.URL("/test"))
	if err != nil {
		t.Fatal(err)
	}
	if member >= 0 { // talk to one member only
		tg.Hosts = tg.Hosts[member : member+1]
	}
	cfg := Config{Target: tg, Member: fmt.Sprintf("s%d", member), Timeout: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func client(i int) net.HardwareAddr { return net.HardwareAddr{0x52, 0x54, 0, 0, byte(i >> 8), byte(i)} }

func addr(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }

func bind(ip netip.Addr, mac net.HardwareAddr, d time.Duration) leases.Lease {
	return leases.Lease{IP: ip, MAC: mac, Expiry: time.Now().Add(d).Truncate(time.Second), Hostname: "h"}
}

// eventually polls cond for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func find(t *testing.T, s *Store, ip netip.Addr) (leases.Lease, bool) {
	t.Helper()
	ls, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.IP == ip {
			return l, true
		}
	}
	return leases.Lease{}, false
}

func TestStoreLifecycle(t *testing.T) {
	c := etcdtest.Start(t, 1)
	s := open(t, c, 0, nil)
	l := bind(addr(10), client(1), time.Hour)
	if err := s.Allocate(l); err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	if err := s.Allocate(bind(addr(10), client(2), time.Hour)); !errors.Is(err, leases.ErrTaken) {
		t.Fatalf("a second client's Allocate of the same address: %v, want ErrTaken", err)
	}
	l.Expiry = l.Expiry.Add(time.Hour)
	if err := s.Renew(l); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if err := s.Release(bind(addr(10), client(2), 0)); err != nil {
		t.Fatalf("another client's Release (a no-op): %v", err)
	}
	if got, _ := find(t, s, addr(10)); got.State != leases.Bound || !got.Expiry.Equal(l.Expiry) {
		t.Fatalf("after renew and a stranger's release: %+v, want bound until %v", got, l.Expiry)
	}

	// A second instance, opened later, sees the record; the first one's
	// release reaches it through the watch.
	s2 := open(t, c, 0, nil)
	if got, ok := find(t, s2, addr(10)); !ok || got.MAC.String() != client(1).String() || !got.Expiry.Equal(l.Expiry) {
		t.Fatalf("second store lists %+v (found %v), want client 1's binding", got, ok)
	}
	if !s2.Taken(addr(10), bind(addr(10), client(2), 0).Key(), time.Now()) || s2.Taken(addr(10), l.Key(), time.Now()) {
		t.Fatal("Taken: want true for another client, false for the holder")
	}
	if ip, ok := s2.Holding(l.Key(), time.Now()); !ok || ip != addr(10) {
		t.Fatalf("Holding(client 1) in the second store = %v %v, want %v", ip, ok, addr(10))
	}
	if err := s.Release(l); err != nil {
		t.Fatalf("Release: %v", err)
	}
	eventually(t, 2*time.Second, "second store never saw the release", func() bool {
		got, _ := find(t, s2, addr(10))
		return got.State == leases.Released
	})
	if err := s2.Allocate(bind(addr(10), client(2), time.Hour)); err != nil {
		t.Fatalf("binding a released address from the other store: %v", err)
	}
	if err := s.Decline(bind(addr(11), nil, time.Hour)); err != nil {
		t.Fatalf("Decline: %v", err)
	}
	eventually(t, 2*time.Second, "quarantine not seen by the other store", func() bool {
		return s2.Taken(addr(11), "hw:x", time.Now())
	})
}

// TestRace: stores on different members of one cluster bind the same
// addresses for different clients at once. Each address ends up bound to
// exactly one client, and no two clients were ever told they had it.
func TestRace(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d members", n), func(t *testing.T) {
			c := etcdtest.Start(t, n)
			stores := []*Store{open(t, c, 0, nil), open(t, c, n-1, nil)}
			const addrs, perStore = 40, 4
			var mu sync.Mutex
			winners := map[netip.Addr]map[string]bool{}
			var wg sync.WaitGroup
			for si, s := range stores {
				for g := range perStore {
					wg.Add(1)
					go func() {
						defer wg.Done()
						mac := client(si*100 + g)
						for i := range addrs {
							l := bind(addr(100+i), mac, time.Hour)
							done := make(chan error, 1)
							s.Commit(withState(l, leases.Bound), func(err error) { done <- err })
							err := <-done
							if err == nil {
								mu.Lock()
								if winners[l.IP] == nil {
									winners[l.IP] = map[string]bool{}
								}
								winners[l.IP][mac.String()] = true
								mu.Unlock()
							} else if !errors.Is(err, leases.ErrTaken) {
								t.Errorf("Commit: %v", err)
							}
						}
					}()
				}
			}
			wg.Wait()
			fresh := open(t, c, 0, nil)
			for i := range addrs {
				ip := addr(100 + i)
				if len(winners[ip]) != 1 {
					t.Errorf("%v was granted to %d clients: %v", ip, len(winners[ip]), winners[ip])
					continue
				}
				got, ok := find(t, fresh, ip)
				if !ok || !winners[ip][got.MAC.String()] || got.State != leases.Bound {
					t.Errorf("%v in etcd: %+v, want bound to the one winner %v", ip, got, winners[ip])
				}
			}
			var conflicts, txns uint64
			for _, s := range stores {
				conflicts += s.Metrics.Conflicts.Load()
				txns += s.Metrics.Txns.Load()
			}
			t.Logf("%d transactions for %d commits, %d compare failures", txns, 2*perStore*addrs, conflicts)
			if conflicts == 0 {
				t.Error("no transaction lost a compare: the stores did not race")
			}
		})
	}
}

func withState(l leases.Lease, s leases.State) leases.Lease { l.State = s; return l }

// TestBatching: commits queued together share transactions.
func TestBatching(t *testing.T) {
	c := etcdtest.Start(t, 1)
	s := open(t, c, 0, nil)
	const n = 300
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		l := leases.Lease{IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), MAC: client(i), State: leases.Bound, Expiry: time.Now().Add(time.Hour)}
		s.Commit(l, func(err error) {
			if err != nil {
				t.Errorf("Commit %d: %v", i, err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	txns := s.Metrics.Txns.Load()
	if txns >= n/2 {
		t.Errorf("%d commits took %d transactions, want them batched", n, txns)
	}
	if ls, _ := s.List(); len(ls) != n {
		t.Errorf("List: %d leases, want %d", len(ls), n)
	}
}

// TestExpiryWithoutTheOwner: the instance that made a binding is gone; the
// remaining one marks it expired and may hand the address out again.
func TestExpiryWithoutTheOwner(t *testing.T) {
	c := etcdtest.Start(t, 1)
	owner := open(t, c, 0, nil)
	other := open(t, c, 0, func(c *Config) { c.SweepInterval = 200 * time.Millisecond })
	l := leases.Lease{IP: addr(20), MAC: client(1), Expiry: time.Now().Add(1500 * time.Millisecond)}
	if err := owner.Allocate(l); err != nil {
		t.Fatal(err)
	}
	owner.Close()
	if err := other.Allocate(bind(addr(20), client(2), time.Hour)); !errors.Is(err, leases.ErrTaken) {
		t.Fatalf("before expiry: %v, want ErrTaken", err)
	}
	eventually(t, 5*time.Second, "binding never marked expired", func() bool {
		got, _ := find(t, other, addr(20))
		// The sweep counts after its write: wait for both.
		return got.State == leases.Expired && other.Metrics.SweptExpired.Load() > 0
	})
	if other.Metrics.SweptExpired.Load() != 1 {
		t.Errorf("swept_expired = %d, want 1", other.Metrics.SweptExpired.Load())
	}
	if err := other.Allocate(bind(addr(20), client(2), time.Hour)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

// TestDegraded: with etcd frozen (SIGSTOP) a renewal is accepted and kept,
// a new binding refused; when etcd is back the renewal reaches it without
// a restart.
func TestDegraded(t *testing.T) {
	c := etcdtest.Start(t, 1)
	s := open(t, c, 0, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	held := bind(addr(30), client(1), time.Hour)
	if err := s.Allocate(held); err != nil {
		t.Fatal(err)
	}
	c.Signal(0, syscall.SIGSTOP)
	held.Expiry = held.Expiry.Add(time.Hour)
	if err := s.Renew(held); err != nil {
		t.Fatalf("renewal while etcd is stopped: %v", err)
	}
	if !s.Degraded() {
		t.Fatal("not degraded after a failed transaction")
	}
	if err := s.Allocate(bind(addr(31), client(2), time.Hour)); !errors.Is(err, leases.ErrUnavailable) {
		t.Fatalf("new binding while etcd is stopped: %v, want ErrUnavailable", err)
	}
	if m, g := s.Metrics.Snapshot(), s.Metrics.Gauges(); g["degraded"] != 1 || m["degraded_renewals"] != 1 || m["refused_while_down"] != 1 || g["pending_renewals"] != 1 {
		t.Errorf("metrics while degraded: %v %v", m, g)
	}
	c.Signal(0, syscall.SIGCONT)
	eventually(t, 10*time.Second, "still degraded after etcd came back", func() bool { return !s.Degraded() })
	eventually(t, 5*time.Second, "kept renewal never written", func() bool { return s.Metrics.Gauges()["pending_renewals"] == 0 })
	fresh := open(t, c, 0, nil)
	if got, _ := find(t, fresh, addr(30)); !got.Expiry.Equal(held.Expiry) {
		t.Errorf("etcd holds expiry %v, want the renewal's %v", got.Expiry, held.Expiry)
	}
	if err := s.Allocate(bind(addr(31), client(2), time.Hour)); err != nil {
		t.Fatalf("new binding after etcd returned: %v", err)
	}
}

// TestQuorum: with three members, one killed leaves the store working;
// two stopped make it degraded; restarting them recovers it.
func TestQuorum(t *testing.T) {
	c := etcdtest.Start(t, 3)
	s := open(t, c, -1, func(c *Config) { c.Timeout = 500 * time.Millisecond })
	if err := s.Allocate(bind(addr(40), client(1), time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.Kill(2)
	eventually(t, 10*time.Second, "no binding with one member of three dead", func() bool {
		return s.Allocate(bind(addr(41), client(2), time.Hour)) == nil
	})
	c.Signal(1, syscall.SIGSTOP)
	// A transaction the remaining member had already committed may still
	// answer; the next new binding cannot.
	var err error
	for i := range 5 {
		if err = s.Allocate(bind(addr(60+i), client(10+i), time.Hour)); err != nil {
			break
		}
	}
	if !errors.Is(err, leases.ErrUnavailable) || !s.Degraded() {
		t.Fatalf("with two of three members gone: %v (degraded %v), want ErrUnavailable", err, s.Degraded())
	}
	c.Signal(1, syscall.SIGCONT)
	eventually(t, 15*time.Second, "store still degraded with quorum back", func() bool { return !s.Degraded() })
	if err := s.Allocate(bind(addr(42), client(3), time.Hour)); err != nil {
		t.Fatalf("after quorum returned: %v", err)
	}
}
