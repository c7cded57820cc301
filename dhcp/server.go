package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"
)

// Counters are the server's running totals.
type Counters struct {
	Received  atomic.Uint64 // datagrams read
	Malformed atomic.Uint64 // not parseable as DHCP
	Dropped   atomic.Uint64 // shed because every worker was busy
	Replied   atomic.Uint64 // replies sent
	SendError atomic.Uint64 // replies that could not be sent
}

// Responder answers one request; nil means no reply. *Handler (full DHCP)
// and the proxyDHCP responder implement it.
type Responder interface {
	Handle(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4
}

// Snapshot returns the totals by name.
func (c *Counters) Snapshot() map[string]uint64 {
	return map[string]uint64{
		"received": c.Received.Load(), "malformed": c.Malformed.Load(), "dropped": c.Dropped.Load(),
		"replied": c.Replied.Load(), "send_error": c.SendError.Load(),
	}
}

// queueLen is the least number of requests waiting for a worker before
// more are shed: enough to ride out a scheduling gap at ten thousand
// requests a second, a few hundred kilobytes at most.
const queueLen = 2048

// Server reads requests from a Conn and answers them with a fixed number of
// workers, so a flood queues or is shed instead of growing without bound.
type Server struct {
	conn     Conn
	h        Responder
	log      logrus.FieldLogger
	workers  int
	Counters Counters
}

// NewServer returns a server answering with h on conn using workers
// goroutines (at least 1).
func NewServer(conn Conn, h Responder, log logrus.FieldLogger, workers int) *Server {
	return &Server{conn: conn, h: h, log: log, workers: max(workers, 1)}
}

// Serve answers requests until ctx ends or the connection fails; it closes
// the connection when it returns.
func (s *Server) Serve(ctx context.Context) error {
	queue := make(chan []byte, max(queueLen, 4*s.workers))
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range queue {
				s.answer(b)
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

// read copies each datagram into the queue, shedding it when the queue is
// full.
func (s *Server) read(queue chan<- []byte) error {
	for {
		b, err := s.conn.ReadRequest()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.Counters.Received.Add(1)
		select {
		case queue <- append([]byte(nil), b...):
		default:
			s.Counters.Dropped.Add(1)
		}
	}
}

// asyncResponder is a Responder that may answer later, from another
// goroutine (the full server's OFFER waits for its conflict probe).
type asyncResponder interface {
	Respond(req *dhcpv4.DHCPv4, send func(*dhcpv4.DHCPv4))
}

// answer parses one request, builds the reply and sends it where RFC 2131
// section 4.1 says. Input the parser or the handler cannot take is counted
// and dropped with a debug line.
func (s *Server) answer(b []byte) {
	defer func() {
		if p := recover(); p != nil {
			s.Counters.Malformed.Add(1)
			s.log.WithField("panic", p).Debug("dhcp: request the handler could not take, dropped")
		}
	}()
	req, err := dhcpv4.FromBytes(b)
	if err == nil && b[2] > 16 { // hlen past chaddr's 16 bytes (RFC 2131 section 2)
		err = fmt.Errorf("hardware address length %d", b[2])
	}
	if err != nil {
		s.Counters.Malformed.Add(1)
		s.log.WithError(err).WithField("bytes", len(b)).Debug("dhcp: malformed request dropped")
		return
	}
	if ar, ok := s.h.(asyncResponder); ok {
		ar.Respond(req, func(reply *dhcpv4.DHCPv4) { s.send(req, reply) })
		return
	}
	if reply := s.h.Handle(req); reply != nil {
		s.send(req, reply)
	}
}

// send delivers one reply the way Route says.
func (s *Server) send(req, reply *dhcpv4.DHCPv4) {
	to := Route(req, reply)
	if err := s.conn.Send(reply.ToBytes(), to); err != nil {
		s.Counters.SendError.Add(1)
		s.log.WithError(err).WithField("to", to.IP).Warn("dhcp: sending reply")
		return
	}
	s.Counters.Replied.Add(1)
}
