package tftp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// ClientOptions are what a Fetch asks for. Zero values are not asked.
type ClientOptions struct {
	BlockSize  int
	WindowSize int
	Timeout    int  // seconds, sent as the timeout option
	TSize      bool // ask for the size
	// Wait is how long the client waits for a packet before it ACKs
	// again (default 500 ms); it gives up after 10 such waits in a row.
	Wait time.Duration
	// Drop, when set, is asked about every DATA packet that arrives; true
	// discards it, to simulate loss.
	Drop func(block uint16) bool
}

// FetchResult describes a finished Fetch.
type FetchResult struct {
	Bytes   int64
	OACK    map[string]string // nil when the server sent none
	Packets int               // DATA packets received, dropped ones included
}

// ServerError is an ERROR packet the server sent.
type ServerError struct {
	Code uint16
	Msg  string
}

func (e *ServerError) Error() string { return fmt.Sprintf("tftp error %d: %s", e.Code, e.Msg) }

// Fetch reads name from the TFTP server at addr (host:port) in octet mode
// into w. It is a small RFC 1350 client with the options of RFC 2347-2349
// and RFC 7440 windowsize (it ACKs every window, and on a gap or a timeout
// the last block it has), for tests and benchmarks.
func Fetch(addr, name string, opt ClientOptions, w io.Writer) (FetchResult, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return FetchResult{}, err
	}
	conn, err := net.ListenUDP(network(raddr), nil)
	if err != nil {
		return FetchResult{}, err
	}
	defer conn.Close()
	c := &fetcher{conn: conn, opt: opt, w: w, blksize: defaultBlockSize, window: 1, buf: make([]byte, maxPacket)}
	if c.opt.Wait <= 0 {
		c.opt.Wait = 500 * time.Millisecond
	}
	rrq := c.request(name)
	if _, err := conn.WriteToUDP(rrq, raddr); err != nil {
		return FetchResult{}, err
	}
	err = c.receive(raddr, rrq)
	return c.res, err
}

type fetcher struct {
	conn     *net.UDPConn
	peer     *net.UDPAddr // the server's transfer address, once known
	opt      ClientOptions
	w        io.Writer
	blksize  int
	window   int
	buf      []byte
	expected uint16 // next block wanted
	inWindow int    // blocks received since the last ACK
	res      FetchResult
}

// request builds the RRQ.
func (c *fetcher) request(name string) []byte {
	b := binary.BigEndian.AppendUint16(nil, opRRQ)
	b = append(append(b, name...), 0)
	b = append(b, "octet\x00"...)
	add := func(k string, v int) {
		b = append(append(append(append(b, k...), 0), strconv.Itoa(v)...), 0)
	}
	if c.opt.BlockSize > 0 {
		add("blksize", c.opt.BlockSize)
	}
	if c.opt.TSize {
		add("tsize", 0)
	}
	if c.opt.Timeout > 0 {
		add("timeout", c.opt.Timeout)
	}
	if c.opt.WindowSize > 0 {
		add("windowsize", c.opt.WindowSize)
	}
	return b
}

// receive runs the transfer until the short final block.
func (c *fetcher) receive(server *net.UDPAddr, rrq []byte) error {
	c.expected = 1
	idle := 0
	for {
		c.conn.SetReadDeadline(time.Now().Add(c.opt.Wait))
		n, from, err := c.conn.ReadFromUDP(c.buf)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
			if idle++; idle > 10 {
				return fmt.Errorf("no answer for block %d", c.expected)
			}
			if c.peer == nil {
				c.conn.WriteToUDP(rrq, server) // the request may be lost
			} else {
				c.ack(c.expected - 1)
				c.inWindow = 0
			}
			continue
		}
		if c.peer == nil {
			c.peer = from
		} else if !from.IP.Equal(c.peer.IP) || from.Port != c.peer.Port {
			continue
		}
		idle = 0
		done, err := c.packet(c.buf[:n])
		if done || err != nil {
			return err
		}
	}
}

// packet handles one packet from the server; done at the final block.
func (c *fetcher) packet(p []byte) (bool, error) {
	if len(p) < 4 {
		return false, nil
	}
	switch binary.BigEndian.Uint16(p) {
	case opERROR:
		return true, &ServerError{Code: binary.BigEndian.Uint16(p[2:]), Msg: string(trimNUL(p[4:]))}
	case opOACK:
		if c.res.OACK == nil && c.expected == 1 {
			if err := c.oack(p[2:]); err != nil {
				return true, err
			}
		}
		c.ack(0)
		return false, nil
	case opDATA:
		return c.data(binary.BigEndian.Uint16(p[2:]), p[4:])
	}
	return false, nil
}

// oack applies the server's option acknowledgment.
func (c *fetcher) oack(b []byte) error {
	fields, err := splitFields(b)
	if err != nil || len(fields)%2 != 0 {
		return fmt.Errorf("bad OACK %q", b)
	}
	c.res.OACK = map[string]string{}
	for i := 0; i < len(fields); i += 2 {
		c.res.OACK[fields[i]] = fields[i+1]
	}
	if v, err := strconv.Atoi(c.res.OACK["blksize"]); err == nil {
		c.blksize = v
	}
	if v, err := strconv.Atoi(c.res.OACK["windowsize"]); err == nil {
		c.window = v
	}
	return nil
}

// data takes one DATA block; RFC 7440 section 4 receiver.
func (c *fetcher) data(block uint16, payload []byte) (bool, error) {
	c.res.Packets++
	if c.opt.Drop != nil && c.opt.Drop(block) {
		return false, nil
	}
	if block != c.expected {
		if block != c.expected-1 || c.window == 1 {
			// a gap: ask again from the first missing block
			c.ack(c.expected - 1)
			c.inWindow = 0
		}
		return false, nil
	}
	if _, err := c.w.Write(payload); err != nil {
		return true, err
	}
	c.res.Bytes += int64(len(payload))
	c.expected++
	c.inWindow++
	last := len(payload) < c.blksize
	if last || c.inWindow >= c.window {
		c.ack(block)
		c.inWindow = 0
	}
	return last, nil
}

func (c *fetcher) ack(block uint16) {
	if c.peer == nil {
		return
	}
	b := binary.BigEndian.AppendUint16(nil, opACK)
	b = binary.BigEndian.AppendUint16(b, block)
	c.conn.WriteToUDP(b, c.peer)
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
