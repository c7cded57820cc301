package dhcpwire

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/internal/logx"
	"github.com/rackboot/rackboot/internal/rxloop"
)

// Conn is a DHCP server's socket: it yields requests and sends replies the
// way a Delivery says. dhcpsock.RawConn (port 67 through AF_PACKET) and
// PacketConn (a UDP socket, port 4011) are the real ones; tests use fakes.
type Conn interface {
	// ReadRequest blocks for the next request and returns its payload,
	// which stays valid until the next call, and its source.
	ReadRequest() ([]byte, netip.AddrPort, error)
	// Send delivers one reply payload.
	Send(payload []byte, to Delivery) error
	Close() error
}

// Responder answers one request by calling send at most once, possibly
// later and from another goroutine (the full server's OFFER may wait for
// its conflict probe).
type Responder interface {
	Respond(req *dhcpv4.DHCPv4, send func(*dhcpv4.DHCPv4))
}

// ResponderFunc answers at once: a nil reply sends nothing.
type ResponderFunc func(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4

// Respond implements Responder.
func (f ResponderFunc) Respond(req *dhcpv4.DHCPv4, send func(*dhcpv4.DHCPv4)) {
	if r := f(req); r != nil {
		send(r)
	}
}

// Counters are a server's running totals (the shared receive loop's).
type Counters = rxloop.Counters

// queueLen is the least number of requests waiting for a worker before
// more are shed. The raw socket's reader drains the kernel's queue in
// batches (dhcpsock), so this queue is what absorbs a burst or a
// scheduling gap: at 20,000 requests a second 8,192 is 400 ms, a few
// megabytes at most, well inside a client's first retransmission (4 s,
// RFC 2131 section 4.1).
const queueLen = 8192

// Route says where a reply goes, from the request, the reply and the
// request's source. RouteRFC2131 is the port 67 rule; RouteToSource the
// port 4011 one.
type RouteFunc func(req, reply *dhcpv4.DHCPv4, src netip.AddrPort) Delivery

// RouteRFC2131 applies Route (RFC 2131 section 4.1).
func RouteRFC2131(req, reply *dhcpv4.DHCPv4, _ netip.AddrPort) Delivery { return Route(req, reply) }

// RouteToSource answers the request's source address and port.
func RouteToSource(_, _ *dhcpv4.DHCPv4, src netip.AddrPort) Delivery { return ToSource(src) }

// Server reads requests from a Conn and answers them with a fixed number of
// workers, so a flood queues or is shed instead of growing without bound. A
// panic while answering one request is recovered, counted and logged; the
// server goes on.
type Server struct {
	conn     Conn
	h        Responder
	route    RouteFunc
	log      logrus.FieldLogger
	workers  int
	Counters Counters
}

// NewServer returns a server answering with h on conn using workers
// goroutines (at least 1), sending each reply where route says. A nil log
// logs nothing.
func NewServer(conn Conn, h Responder, route RouteFunc, log logrus.FieldLogger, workers int) *Server {
	return &Server{conn: conn, h: h, route: route, log: logx.OrDiscard(log), workers: max(workers, 1)}
}

// Serve answers requests until ctx ends or the connection fails; it closes
// the connection when it returns.
func (s *Server) Serve(ctx context.Context) error {
	return rxloop.Loop[netip.AddrPort]{
		Read: s.conn.ReadRequest, Answer: s.answer, Close: s.conn.Close,
		Workers: s.workers, QueueLen: queueLen, Counters: &s.Counters, Log: s.log, Name: "dhcp",
	}.Serve(ctx)
}

// answer parses one request, has the responder answer it and sends the
// reply where the route says. Input the parser cannot take is counted and
// dropped with a debug line.
func (s *Server) answer(b []byte, src netip.AddrPort) {
	req, err := Parse(b)
	if err != nil {
		s.Counters.Malformed.Add(1)
		s.log.WithError(err).WithFields(logrus.Fields{"bytes": len(b), "from": src}).Debug("dhcp: malformed request dropped")
		return
	}
	s.h.Respond(req, func(reply *dhcpv4.DHCPv4) { s.send(req, reply, src) })
}

// Parse reads a BOOTREQUEST's bytes (RFC 2131 section 2), refusing what
// dhcpv4.FromBytes lets through but no client sends: a hardware address
// length past chaddr's 16 bytes, or a reply.
func Parse(b []byte) (*dhcpv4.DHCPv4, error) {
	req, err := dhcpv4.FromBytes(b)
	switch {
	case err != nil:
		return nil, err
	case b[2] > 16:
		return nil, fmt.Errorf("hardware address length %d", b[2])
	case req.OpCode != dhcpv4.OpcodeBootRequest:
		return nil, fmt.Errorf("op %s, not a BOOTREQUEST", req.OpCode)
	}
	return req, nil
}

// send delivers one reply the way the route says.
func (s *Server) send(req, reply *dhcpv4.DHCPv4, src netip.AddrPort) {
	to := s.route(req, reply, src)
	if err := s.conn.Send(reply.ToBytes(), to); err != nil {
		s.Counters.SendError.Add(1)
		s.log.WithError(err).WithField("to", to.IP).Warn("dhcp: sending reply")
		return
	}
	s.Counters.Replied.Add(1)
}
