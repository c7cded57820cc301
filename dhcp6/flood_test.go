package dhcp6

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// TestSolicitFlood: 10,000 Solicits from random MACs that never send a
// Request, into a pool of 256 addresses. Every one is answered with an
// address (the oldest offer is taken back), the pool's records stay
// bounded by its size, and a machine that then asks gets an address that
// sticks.
func TestSolicitFlood(t *testing.T) {
	h, _ := newTestHandler(t, false)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 10_000 {
		mac := net.HardwareAddr{2, byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}
		m := handle(t, h, plain(mac).msg(dhcpv6.MessageTypeSolicit), onLink(mac))
		if m == nil || !replyAddr(m.(*dhcpv6.Message)).IsValid() {
			t.Fatalf("Solicit %d got no address", i)
		}
		h.pool.mu.Lock()
		n, k := len(h.pool.byIP), len(h.pool.byKey)
		h.pool.mu.Unlock()
		if n > 256+2 || k > 256+2 {
			t.Fatalf("after %d Solicits: %d records by address, %d by client", i+1, n, k)
		}
	}
	c := plain(otherMAC)
	c.server = serverDUID
	a := replyAddr(handle(t, h, c.msg(dhcpv6.MessageTypeRequest), onLink(otherMAC)).(*dhcpv6.Message))
	for range 1000 {
		mac := net.HardwareAddr{2, byte(rng.Uint32()), 0, 0, byte(rng.Uint32()), byte(rng.Uint32())}
		if b := replyAddr(handle(t, h, plain(mac).msg(dhcpv6.MessageTypeSolicit), onLink(mac)).(*dhcpv6.Message)); b == a {
			t.Fatalf("the bound address %v was offered to %v", a, mac)
		}
	}
	if n := h.Metrics.NoAddrs.Load(); n != 0 {
		t.Errorf("no_addrs = %d, want 0", n)
	}
}

// fakeConn feeds datagrams to a Server and collects its replies.
type fakeConn struct {
	in     chan []byte
	mu     sync.Mutex
	out    [][]byte
	closed chan struct{}
	once   sync.Once
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte, 64), closed: make(chan struct{})}
}

func (c *fakeConn) ReadRequest() ([]byte, Source, error) {
	select {
	case b := <-c.in:
		return b, onLink(otherMAC), nil
	case <-c.closed:
		return nil, Source{}, net.ErrClosed
	}
}

func (c *fakeConn) Send(b []byte, _ netip.AddrPort) error {
	c.mu.Lock()
	c.out = append(c.out, b)
	c.mu.Unlock()
	return nil
}

func (c *fakeConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// TestHostileFlood: garbage, truncated messages, deep relay nesting,
// server messages and valid Solicits mixed, through the receive loop.
// Nothing panics, the bad ones are counted as malformed or ignored, and
// every valid Solicit is answered.
func TestHostileFlood(t *testing.T) {
	h, _ := newTestHandler(t, false)
	conn := newFakeConn()
	srv := NewServer(conn, h, nil, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()

	good := ovmfPXE(otherMAC).msg(dhcpv6.MessageTypeSolicit).ToBytes()
	deep := dhcpv6.DHCPv6(ovmfPXE(otherMAC).msg(dhcpv6.MessageTypeSolicit))
	for range 12 {
		deep, _ = dhcpv6.EncapsulateRelay(deep, dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:2::1"), net.ParseIP("fe80::1"))
	}
	reply := ovmfPXE(otherMAC).msg(dhcpv6.MessageTypeAdvertise).ToBytes()
	rng := rand.New(rand.NewPCG(3, 4))
	const rounds = 2000
	for i := range rounds {
		junk := make([]byte, rng.IntN(300))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		for _, b := range [][]byte{junk, good[:rng.IntN(len(good))], deep.ToBytes(), reply, good} {
			conn.in <- b
		}
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // let the workers keep up: this test counts answers, not drops
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.Counters.Received.Load() < rounds*5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for srv.Counters.Replied.Load()+srv.Counters.Dropped.Load() < rounds && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c := srv.Counters.Snapshot()
	if c["panics"] != 0 {
		t.Errorf("panics = %d", c["panics"])
	}
	// Every datagram ends one way: shed, malformed, ignored or answered.
	if sum := c["dropped"] + c["malformed"] + h.Metrics.Ignored.Load() + c["replied"]; sum != c["received"] || c["received"] != rounds*5 {
		t.Errorf("counters %v, ignored %d: they add up to %d, want %d", c, h.Metrics.Ignored.Load(), sum, rounds*5)
	}
	if c["replied"] == 0 || c["malformed"]+c["dropped"] < rounds {
		t.Errorf("counters %v: want the valid Solicits answered and the garbage counted", c)
	}
}
