package tftp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// peer is a transfer's socket, connected to the client's address and port
// (its TID, RFC 1350 section 4): the kernel drops packets from anyone else.
type peer interface {
	Write(b []byte) (int, error)
	Read(b []byte) (int, error)
	SetReadDeadline(t time.Time) error
}

// errTimeout is returned by await when no answer came in time.
var errTimeout = errors.New("timed out waiting for an ACK")

// sender sends one file: the OACK when options were accepted, then DATA
// blocks, window blocks at a time (RFC 7440; a window of 1 is RFC 1350's
// lock-step), each window retransmitted from its first unacknowledged block
// when the client's ACK does not come within the timeout.
type sender struct {
	conn    peer
	src     io.Reader
	set     settings
	retries int

	recv  []byte
	armed time.Time // the socket's read deadline
	slots [][]byte  // ring of window DATA packets, block c in slot c % window
	lens  []int

	base uint64 // first block not acknowledged
	next uint64 // next block to send
	read uint64 // highest block read from src
	last uint64 // the final, short block; 0 until it is read

	bytes   int64 // file bytes read
	resends int   // DATA packets sent more than once
}

func newSender(conn peer, src io.Reader, set settings, retries int) *sender {
	s := &sender{conn: conn, src: src, set: set, retries: retries, recv: make([]byte, 1024)}
	s.slots = make([][]byte, set.window)
	s.lens = make([]int, set.window)
	for i := range s.slots {
		s.slots[i] = make([]byte, 4+set.blksize)
	}
	return s
}

// run sends the OACK (when there is one) and the file; it returns the
// number of file bytes sent.
func (s *sender) run() (int64, error) {
	if len(s.set.oack) > 0 {
		if err := s.sendOACK(); err != nil {
			return 0, err
		}
	}
	err := s.sendData()
	return s.bytes, err
}

// sendOACK sends the option acknowledgment until the client acknowledges
// it with ACK 0 (RFC 2347 section 2).
func (s *sender) sendOACK() error {
	pkt := appendOACK(nil, s.set.oack)
	for try := 0; ; try++ {
		if _, err := s.conn.Write(pkt); err != nil {
			return fmt.Errorf("sending OACK: %w", err)
		}
		r, err := s.await(time.Now().Add(s.set.timeout))
		switch {
		case errors.Is(err, errTimeout):
			if try >= s.retries {
				return fmt.Errorf("no ACK for the OACK after %d tries", try+1)
			}
			continue
		case err != nil:
			return err
		case r.op == opERROR:
			return clientError(r)
		case r.block == 0:
			return nil
		}
	}
}

// sendData sends the blocks, sliding the window on every ACK. The timeout
// runs from the last DATA sent: ACKs that move nothing (a client repeating
// its last ACK while it waits) do not restart it.
func (s *sender) sendData() error {
	s.base, s.next = 1, 1
	tries := 0
	var deadline time.Time
	for s.last == 0 || s.base <= s.last {
		sent, err := s.fillWindow()
		if err != nil {
			return err
		}
		if sent {
			deadline = time.Now().Add(s.set.timeout)
		}
		r, err := s.await(deadline)
		switch {
		case errors.Is(err, errTimeout):
			if tries++; tries > s.retries {
				return fmt.Errorf("no ACK for block %d after %d tries", s.base, tries)
			}
			s.next = s.base // go back: resend the window
			continue
		case err != nil:
			return err
		case r.op == opERROR:
			return clientError(r)
		}
		if c, ok := s.acked(r.block); ok {
			tries = 0
			s.base = c + 1
			if c+1 < s.next {
				// RFC 7440 section 4: the client lacks block c+1
				// onwards; go on from there.
				s.next = s.base
			}
		}
	}
	return nil
}

// fillWindow sends blocks until window blocks are unacknowledged or the
// final block is out; it reports whether it sent any.
func (s *sender) fillWindow() (bool, error) {
	sent := false
	for s.next < s.base+uint64(s.set.window) && (s.last == 0 || s.next <= s.last) {
		if err := s.sendBlock(s.next); err != nil {
			return sent, err
		}
		s.next++
		sent = true
	}
	return sent, nil
}

// sendBlock sends block c, reading it from the file the first time.
func (s *sender) sendBlock(c uint64) error {
	i := int(c % uint64(len(s.slots)))
	if c > s.read {
		n, err := io.ReadFull(s.src, s.slots[i][4:])
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			s.last = c
		case err != nil:
			return fmt.Errorf("reading block %d: %w", c, err)
		}
		s.lens[i] = 4 + n
		s.read = c
		s.bytes += int64(n)
	} else {
		s.resends++
	}
	// Block numbers wrap from 65535 to 0 for files of more than 65535
	// blocks, as iPXE, PXELINUX, curl and tftp-hpa expect.
	putDataHeader(s.slots[i], uint16(c))
	if _, err := s.conn.Write(s.slots[i][:s.lens[i]]); err != nil {
		return fmt.Errorf("sending block %d: %w", c, err)
	}
	return nil
}

// acked maps the 16-bit block number of an ACK to a block sent and not yet
// acknowledged; a duplicate or stale ACK is ignored (no resend on it, which
// would start the Sorcerer's Apprentice syndrome, RFC 1123 section 4.2.3.1).
func (s *sender) acked(b uint16) (uint64, bool) {
	d := uint64(b - uint16(s.base))
	if d < s.next-s.base {
		return s.base + d, true
	}
	return 0, false
}

// deadlineSlack is how much earlier than a wait's deadline the socket's
// read deadline may be. A lock-step transfer moves its deadline forward on
// every block; moving the socket's (a timer operation) only once the two
// are this far apart, and waiting again when the socket's passes first,
// times out at the same moment for a fraction of the cost.
const deadlineSlack = 10 * time.Millisecond

// await reads the client's next ACK or ERROR until deadline.
func (s *sender) await(deadline time.Time) (reply, error) {
	if s.armed.After(deadline) || deadline.Sub(s.armed) > deadlineSlack {
		if err := s.arm(deadline); err != nil {
			return reply{}, err
		}
	}
	var refused error
	for {
		n, err := s.conn.Read(s.recv)
		if err != nil {
			if refused != nil {
				return reply{}, fmt.Errorf("client gone: %w", refused)
			}
			if isTimeout(err) {
				if time.Now().Before(deadline) {
					// the socket's deadline was the earlier one
					if err := s.arm(deadline); err != nil {
						return reply{}, err
					}
					continue
				}
				return reply{}, errTimeout
			}
			// Linux reports a pending ICMP port unreachable (for a
			// block the client no longer needed) before the ACKs
			// already queued: take those, if any, before giving up.
			if errors.Is(err, syscall.ECONNREFUSED) {
				refused = err
				s.arm(time.Now().Add(5 * time.Millisecond))
				continue
			}
			return reply{}, fmt.Errorf("client gone: %w", err)
		}
		r, err := parseReply(s.recv[:n])
		if err != nil {
			continue
		}
		return r, nil
	}
}

// arm sets the socket's read deadline.
func (s *sender) arm(t time.Time) error {
	s.armed = t
	return s.conn.SetReadDeadline(t)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// clientError is the error for an ERROR packet from the client.
func clientError(r reply) error {
	return fmt.Errorf("client aborted the transfer: error %d %q", r.code, r.msg)
}
