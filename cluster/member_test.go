package cluster

import (
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/rackboot/rackboot/internal/etcdtest"
)

func TestTTLFor(t *testing.T) {
	for _, tt := range []struct {
		takeover time.Duration
		want     int64
	}{{5 * time.Second, 3}, {2 * time.Second, 2}, {10 * time.Second, 6}, {time.Second, 2}} {
		if got := TTLFor(tt.takeover); got != tt.want {
			t.Errorf("TTLFor(%v) = %d, want %d", tt.takeover, got, tt.want)
		}
	}
}

func join(t *testing.T, c *etcdtest.Cluster, name string, takeover time.Duration) *Membership {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	m, err := Join(Config{Client: cli, Prefix: "/t", Self: Member{Name: name, Addr: "192.0.2.1"}, Takeover: takeover})
	if err != nil {
		t.Fatalf("Join(%s): %v", name, err)
	}
	return m
}

func waitBuckets(t *testing.T, m *Membership, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for m.Buckets() != want {
		if time.Since(start) > within {
			t.Fatalf("%s: %d buckets after %v, want %d (live %v)", m.cfg.Self.Name, m.Buckets(), within, want, m.Live())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// TestMembership: two members split the buckets as Assign says; a crashed
// member's buckets move to the survivor within the takeover time; one that
// leaves cleanly hands them over at once.
func TestMembership(t *testing.T) {
	c := etcdtest.Start(t, 1)
	const takeover = 3 * time.Second
	a := join(t, c, "a", takeover)
	b := join(t, c, "b", takeover)
	want := Assign([]string{"a", "b"}).Count()
	waitBuckets(t, a, want["a"], 2*time.Second)
	waitBuckets(t, b, want["b"], 2*time.Second)
	for h := range Buckets {
		if a.Owns(uint8(h)) == b.Owns(uint8(h)) {
			t.Fatalf("bucket %d owned by both or neither", h)
		}
	}
	if live := a.Live(); len(live) != 2 || live[1].Addr != "192.0.2.1" {
		t.Fatalf("a sees members %+v", live)
	}

	b.Abandon() // a crash: the lease lapses on its own
	took := waitBuckets(t, a, 256, takeover)
	t.Logf("takeover after a crash: %v (takeover bound %v, lease TTL %ds)", took, takeover, TTLFor(takeover))

	d := join(t, c, "d", takeover)
	waitBuckets(t, a, Assign([]string{"a", "d"}).Count()["a"], 2*time.Second)
	start := time.Now()
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitBuckets(t, a, 256, time.Second)
	t.Logf("handover after a clean leave: %v", time.Since(start))
}

// TestMembershipSurvivesEtcdOutage: while etcd is frozen a member keeps its
// buckets; afterwards it is listed again.
func TestMembershipSurvivesEtcdOutage(t *testing.T) {
	c := etcdtest.Start(t, 1)
	a := join(t, c, "a", 2*time.Second)
	waitBuckets(t, a, 256, time.Second)
	c.Signal(0, syscall.SIGSTOP)
	time.Sleep(3 * time.Second)
	if a.Buckets() != 256 {
		t.Fatalf("lost buckets while etcd was frozen: %d", a.Buckets())
	}
	c.Signal(0, syscall.SIGCONT)
	b := join(t, c, "b", 2*time.Second)
	waitBuckets(t, a, Assign([]string{"a", "b"}).Count()["a"], 5*time.Second)
	waitBuckets(t, b, Assign([]string{"a", "b"}).Count()["b"], 5*time.Second)
}
