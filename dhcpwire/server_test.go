package dhcpwire

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

// fakeConn feeds requests to a Server and records what it sends.
type fakeConn struct {
	in     chan []byte
	src    netip.AddrPort
	mu     sync.Mutex
	sent   []Delivery
	closed chan struct{}
	once   sync.Once
}

func newFakeConn(src netip.AddrPort) *fakeConn {
	return &fakeConn{in: make(chan []byte, 16), src: src, closed: make(chan struct{})}
}

func (c *fakeConn) ReadRequest() ([]byte, netip.AddrPort, error) {
	select {
	case b := <-c.in:
		return b, c.src, nil
	case <-c.closed:
		return nil, netip.AddrPort{}, net.ErrClosed
	}
}

func (c *fakeConn) Send(payload []byte, to Delivery) error {
	if _, err := dhcpv4.FromBytes(payload); err != nil {
		return err
	}
	c.mu.Lock()
	c.sent = append(c.sent, to)
	c.mu.Unlock()
	return nil
}

func (c *fakeConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

func (c *fakeConn) waitSent(n int) []Delivery {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		got := len(c.sent)
		c.mu.Unlock()
		if got >= n {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Delivery(nil), c.sent...)
}

var panicMAC = net.HardwareAddr{2, 0, 0, 0, 0, 0xee}

// echo answers every request with an ACK, and panics for panicMAC.
func echo(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	if bytes.Equal(req.ClientHWAddr, panicMAC) {
		panic("handler bug")
	}
	return NewReply(req, dhcpv4.MessageTypeAck, netip.MustParseAddr("192.0.2.1"))
}

func discover(t *testing.T, mac net.HardwareAddr) []byte {
	t.Helper()
	req, err := dhcpv4.NewDiscovery(mac)
	if err != nil {
		t.Fatal(err)
	}
	return req.ToBytes()
}

// TestServerRecoversPanics: a request whose handler panics is counted and
// logged as an error, and the server goes on answering (port 4011 runs
// through this loop too: its replies go to the source).
func TestServerRecoversPanics(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.50:68")
	conn := newFakeConn(src)
	log, hook := test.NewNullLogger()
	srv := NewServer(conn, ResponderFunc(echo), RouteToSource, log, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	conn.in <- discover(t, panicMAC)
	conn.in <- discover(t, otherMAC)
	sent := conn.waitSent(1)
	if len(sent) != 1 || sent[0].IP != src.Addr() || sent[0].Port != 68 || sent[0].L2() {
		t.Fatalf("sent %+v, want one reply to %s", sent, src)
	}
	// The two requests go to two workers: the other's reply may be sent
	// before the panic is recovered, counted and logged.
	var logged bool
	for deadline := time.Now().Add(2 * time.Second); !logged && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, e := range hook.AllEntries() {
			logged = logged || (e.Level == logrus.ErrorLevel && e.Data["panic"] == "handler bug")
		}
	}
	if !logged {
		t.Error("the panic was not logged as an error")
	}
	if n := srv.Counters.Panics.Load(); n != 1 {
		t.Errorf("panics = %d, want 1", n)
	}
}

// TestServerDropsBadInput: malformed packets are counted, never answered,
// and the server keeps serving.
func TestServerDropsBadInput(t *testing.T) {
	conn := newFakeConn(netip.MustParseAddrPort("0.0.0.0:68"))
	srv := NewServer(conn, ResponderFunc(echo), RouteRFC2131, logrus.New(), 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	good := discover(t, otherMAC)
	absurd := append([]byte(nil), good...)
	absurd[2] = 255 // hardware address length
	reply := append([]byte(nil), good...)
	reply[0] = 2 // BOOTREPLY
	bad := [][]byte{nil, {1}, make([]byte, 100), good[:200], absurd, reply, make([]byte, 9000)}
	for _, b := range bad {
		conn.in <- b
	}
	conn.in <- good
	if sent := conn.waitSent(1); len(sent) != 1 {
		t.Fatalf("after bad input, the good DISCOVER got %d replies", len(sent))
	}
	if m := srv.Counters.Malformed.Load(); m < 6 {
		t.Errorf("malformed = %d, want at least 6 of the %d bad packets", m, len(bad))
	}
}
