package dhcp6

import (
	"context"
	"net"
	"net/netip"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/internal/logx"
	"github.com/rackboot/rackboot/internal/rxloop"
)

// Conn is a DHCPv6 server's socket: requests with their source, replies
// to an address and port. dhcpsock.Conn6 (port 547 on an interface, the
// MAC read through AF_PACKET) and UDPConn (port 4011) are the real ones;
// tests use fakes.
type Conn interface {
	// ReadRequest blocks for the next request; the payload stays valid
	// until the next call.
	ReadRequest() ([]byte, Source, error)
	Send(payload []byte, to netip.AddrPort) error
	Close() error
}

// Counters are a server's running totals (the shared receive loop's).
type Counters = rxloop.Counters

// queueLen bounds the requests waiting for a worker; past it they are shed.
const queueLen = 1024

// Server reads requests from a Conn and answers them with a fixed number
// of workers; a flood queues or is shed, a panic is recovered and counted.
type Server struct {
	conn     Conn
	h        *Handler
	log      logrus.FieldLogger
	workers  int
	Counters Counters
}

// NewServer returns a server answering with h on conn.
func NewServer(conn Conn, h *Handler, log logrus.FieldLogger, workers int) *Server {
	return &Server{conn: conn, h: h, log: logx.OrDiscard(log), workers: max(workers, 1)}
}

// Serve answers requests until ctx ends or the connection fails; it closes
// the connection when it returns.
func (s *Server) Serve(ctx context.Context) error {
	return rxloop.Loop[Source]{
		Read: s.conn.ReadRequest, Answer: s.answer, Close: s.conn.Close,
		Workers: s.workers, QueueLen: queueLen, Counters: &s.Counters, Log: s.log, Name: "dhcp6",
	}.Serve(ctx)
}

// answer has the handler answer one request and sends the reply to its
// source; what the handler cannot parse is counted and dropped.
func (s *Server) answer(b []byte, src Source) {
	reply, err := s.h.Handle(b, src)
	if err != nil {
		s.Counters.Malformed.Add(1)
		s.log.WithError(err).WithFields(logrus.Fields{"bytes": len(b), "from": src.Addr}).Debug("dhcp6: malformed request dropped")
		return
	}
	if reply == nil {
		return
	}
	if err := s.conn.Send(reply, src.Addr); err != nil {
		s.Counters.SendError.Add(1)
		s.log.WithError(err).WithField("to", src.Addr).Warn("dhcp6: sending reply")
		return
	}
	s.Counters.Replied.Add(1)
}

// UDPConn is a plain UDP socket as a Conn (the boot server port 4011,
// where OVMF sends its Request after a proxy Advertise); it knows no MACs.
type UDPConn struct {
	pc  net.PacketConn
	buf []byte
}

var _ Conn = (*UDPConn)(nil)

// NewUDPConn wraps pc.
func NewUDPConn(pc net.PacketConn) *UDPConn { return &UDPConn{pc: pc, buf: make([]byte, 65536)} }

// ReadRequest implements Conn.
func (c *UDPConn) ReadRequest() ([]byte, Source, error) {
	n, from, err := c.pc.ReadFrom(c.buf)
	if err != nil {
		return nil, Source{}, err
	}
	ua, _ := from.(*net.UDPAddr)
	return c.buf[:n], Source{Addr: ua.AddrPort()}, nil
}

// Send implements Conn.
func (c *UDPConn) Send(b []byte, to netip.AddrPort) error {
	_, err := c.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

// Close implements Conn.
func (c *UDPConn) Close() error { return c.pc.Close() }

// Close closes the server's connection (for a server that never served).
func (s *Server) Close() error { return s.conn.Close() }
