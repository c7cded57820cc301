// Package rxloop is the bounded receive loop rackboot's DHCPv4 and DHCPv6
// servers share: one reader, a fixed number of workers behind a bounded
// queue (a flood is shed, never grown without bound), a panic while
// answering one request recovered, counted and logged, and the running
// totals.
package rxloop

import (
	"context"
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
)

// Counters are a server's running totals. The loop counts Received,
// Dropped and Panics; the answer function counts the rest.
type Counters struct {
	Received  atomic.Uint64 // datagrams read
	Malformed atomic.Uint64 // not parseable
	Panics    atomic.Uint64 // requests whose handling panicked (recovered)
	Dropped   atomic.Uint64 // shed because every worker was busy
	Replied   atomic.Uint64 // replies sent
	SendError atomic.Uint64 // replies that could not be sent
}

// Snapshot returns the totals by name.
func (c *Counters) Snapshot() map[string]uint64 {
	return map[string]uint64{
		"received": c.Received.Load(), "malformed": c.Malformed.Load(), "panics": c.Panics.Load(),
		"dropped": c.Dropped.Load(), "replied": c.Replied.Load(), "send_error": c.SendError.Load(),
	}
}

// Loop is one receive loop; S is what a request's source is.
type Loop[S any] struct {
	// Read blocks for the next request; its bytes stay valid until the
	// next call. net.ErrClosed ends the loop quietly.
	Read func() ([]byte, S, error)
	// Answer handles one request (a copy of its bytes).
	Answer func(b []byte, src S)
	// Close unblocks Read when the context ends.
	Close    func() error
	Workers  int
	QueueLen int
	Counters *Counters
	// Log and Name (a prefix such as "dhcp") report recovered panics.
	Log  logrus.FieldLogger
	Name string
}

type request[S any] struct {
	b   []byte
	src S
}

// Serve answers requests until ctx ends or Read fails; it closes the
// connection when it returns.
func (l Loop[S]) Serve(ctx context.Context) error {
	queue := make(chan request[S], max(l.QueueLen, 4*l.Workers, 1))
	var wg sync.WaitGroup
	for range max(l.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range queue {
				l.answer(r)
			}
		}()
	}
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	err := l.read(queue)
	close(queue)
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// read copies each datagram into the queue, shedding it when the queue is
// full.
func (l Loop[S]) read(queue chan<- request[S]) error {
	for {
		b, src, err := l.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		l.Counters.Received.Add(1)
		select {
		case queue <- request[S]{append([]byte(nil), b...), src}:
		default:
			l.Counters.Dropped.Add(1)
		}
	}
}

// answer runs Answer, recovering a panic.
func (l Loop[S]) answer(r request[S]) {
	defer func() {
		if p := recover(); p != nil {
			l.Counters.Panics.Add(1)
			l.Log.WithFields(logrus.Fields{"panic": p, "from": r.src, "bytes": len(r.b)}).
				Errorf("%s: handling a request panicked; request dropped, server goes on\n%s", l.Name, debug.Stack())
		}
	}()
	l.Answer(r.b, r.src)
}
