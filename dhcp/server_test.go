package dhcp

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/dhcpwire"
)

// fakeConn feeds requests to a Server and records what it sends.
type fakeConn struct {
	in     chan []byte
	mu     sync.Mutex
	sent   []sentReply
	closed chan struct{}
	once   sync.Once
}

type sentReply struct {
	reply *dhcpv4.DHCPv4
	to    dhcpwire.Delivery
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte, 16), closed: make(chan struct{})}
}

func (c *fakeConn) ReadRequest() ([]byte, netip.AddrPort, error) {
	select {
	case b := <-c.in:
		return b, netip.AddrPort{}, nil
	case <-c.closed:
		return nil, netip.AddrPort{}, net.ErrClosed
	}
}

func (c *fakeConn) Send(payload []byte, to dhcpwire.Delivery) error {
	r, err := dhcpv4.FromBytes(payload)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.sent = append(c.sent, sentReply{r, to})
	c.mu.Unlock()
	return nil
}

func (c *fakeConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// exchange sends one request through a running server and waits for the
// number of replies sent to reach want.
func (c *fakeConn) exchange(t *testing.T, b []byte, want int) []sentReply {
	t.Helper()
	c.in <- b
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := len(c.sent)
		c.mu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentReply(nil), c.sent...)
}

// TestServerDelivery runs the whole server on a fake connection and checks
// that each reply goes where RFC 2131 section 4.1 says.
func TestServerDelivery(t *testing.T) {
	f := newFixture(t, nil)
	_, conn := serveFake(t, f)

	gi := dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1))
	steps := []struct {
		name    string
		req     *dhcpv4.DHCPv4
		wantMT  dhcpv4.MessageType
		wantTo  string
		wantL2  bool
		wantMAC string
		port    int
	}{
		{"discover: unicast to yiaddr at chaddr", request(t, dhcpv4.MessageTypeDiscover, mac(1)), dhcpv4.MessageTypeOffer, "192.0.2.100", true, mac(1).String(), 68},
		{"broadcast flag", request(t, dhcpv4.MessageTypeDiscover, mac(2), dhcpv4.WithBroadcast(true)), dhcpv4.MessageTypeOffer, "255.255.255.255", true, "ff:ff:ff:ff:ff:ff", 68},
		{"relayed to giaddr:67", request(t, dhcpv4.MessageTypeDiscover, mac(3), gi), dhcpv4.MessageTypeOffer, "198.51.100.1", false, "", 67},
		{"NAK broadcast", request(t, dhcpv4.MessageTypeRequest, mac(4), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 9, 9, 9)))), dhcpv4.MessageTypeNak, "255.255.255.255", true, "ff:ff:ff:ff:ff:ff", 68},
		{"relayed NAK to giaddr", request(t, dhcpv4.MessageTypeRequest, mac(4), gi, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 9, 9, 9)))), dhcpv4.MessageTypeNak, "198.51.100.1", false, "", 67},
		{"inform to ciaddr", request(t, dhcpv4.MessageTypeInform, mac(5), dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 7))), dhcpv4.MessageTypeAck, "192.0.2.7", false, "", 68},
	}
	for i, s := range steps {
		sent := conn.exchange(t, s.req.ToBytes(), i+1)
		if len(sent) != i+1 {
			t.Fatalf("%s: %d replies sent, want %d", s.name, len(sent), i+1)
		}
		got := sent[i]
		if got.reply.MessageType() != s.wantMT || got.to.IP.String() != s.wantTo || got.to.L2() != s.wantL2 || got.to.Port != s.port ||
			(s.wantMAC != "" && got.to.MAC.String() != s.wantMAC) {
			t.Errorf("%s: sent %s to %s:%d l2=%v mac=%s; want %s to %s:%d l2=%v mac=%s", s.name,
				got.reply.MessageType(), got.to.IP, got.to.Port, got.to.L2(), got.to.MAC, s.wantMT, s.wantTo, s.port, s.wantL2, s.wantMAC)
		}
	}
}

// serveFake runs a server with two workers on a fake connection until the
// test ends.
func serveFake(t *testing.T, f *fixture) (*dhcpwire.Server, *fakeConn) {
	t.Helper()
	conn := newFakeConn()
	srv := dhcpwire.NewServer(conn, f.h, dhcpwire.RouteRFC2131, f.h.log, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv, conn
}
