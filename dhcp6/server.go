package dhcp6

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/internal/logx"
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

// Counters are a server's running totals.
type Counters struct {
	Received, Malformed, Panics, Dropped, Replied, SendError atomic.Uint64
}

// Snapshot returns the totals by name.
func (c *Counters) Snapshot() map[string]uint64 {
	return map[string]uint64{"received": c.Received.Load(), "malformed": c.Malformed.Load(), "panics": c.Panics.Load(),
		"dropped": c.Dropped.Load(), "replied": c.Replied.Load(), "send_error": c.SendError.Load()}
}

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

type queued struct {
	b   []byte
	src Source
}

// Serve answers requests until ctx ends or the connection fails; it closes
// the connection when it returns.
func (s *Server) Serve(ctx context.Context) error {
	queue := make(chan queued, queueLen)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range queue {
				s.answer(q)
			}
		}()
	}
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	err := s.read(queue)
	close(queue)
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Server) read(queue chan<- queued) error {
	for {
		b, src, err := s.conn.ReadRequest()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.Counters.Received.Add(1)
		select {
		case queue <- queued{append([]byte(nil), b...), src}:
		default:
			s.Counters.Dropped.Add(1)
		}
	}
}

func (s *Server) answer(q queued) {
	defer func() {
		if p := recover(); p != nil {
			s.Counters.Panics.Add(1)
			s.log.WithFields(logrus.Fields{"panic": p, "from": q.src.Addr, "bytes": len(q.b)}).
				Errorf("dhcp6: handling a request panicked; request dropped, server goes on\n%s", debug.Stack())
		}
	}()
	reply, err := s.h.Handle(q.b, q.src)
	if err != nil {
		s.Counters.Malformed.Add(1)
		s.log.WithError(err).WithFields(logrus.Fields{"bytes": len(q.b), "from": q.src.Addr}).Debug("dhcp6: malformed request dropped")
		return
	}
	if reply == nil {
		return
	}
	if err := s.conn.Send(reply, q.src.Addr); err != nil {
		s.Counters.SendError.Add(1)
		s.log.WithError(err).WithField("to", q.src.Addr).Warn("dhcp6: sending reply")
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
