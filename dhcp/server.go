package dhcp

import (
	"context"
	"errors"
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

// Server reads requests from a Conn and answers them with a fixed number of
// workers, so a flood queues or is shed instead of growing without bound.
type Server struct {
	conn     Conn
	h        *Handler
	log      logrus.FieldLogger
	workers  int
	Counters Counters
}

// NewServer returns a server answering with h on conn using workers
// goroutines (at least 1).
func NewServer(conn Conn, h *Handler, log logrus.FieldLogger, workers int) *Server {
	return &Server{conn: conn, h: h, log: log, workers: max(workers, 1)}
}

// Serve answers requests until ctx ends or the connection fails; it closes
// the connection when it returns.
func (s *Server) Serve(ctx context.Context) error {
	queue := make(chan []byte, 4*s.workers)
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

// answer parses one request, builds the reply and sends it where RFC 2131
// section 4.1 says.
func (s *Server) answer(b []byte) {
	req, err := dhcpv4.FromBytes(b)
	if err != nil {
		s.Counters.Malformed.Add(1)
		s.log.WithError(err).Debug("dhcp: malformed request dropped")
		return
	}
	reply := s.h.Handle(req)
	if reply == nil {
		return
	}
	to := Route(req, reply)
	if err := s.conn.Send(reply.ToBytes(), to); err != nil {
		s.Counters.SendError.Add(1)
		s.log.WithError(err).WithField("to", to.IP).Warn("dhcp: sending reply")
		return
	}
	s.Counters.Replied.Add(1)
}
