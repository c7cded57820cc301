// Package tftp serves boot programs, assets and generated files over TFTP
// (RFC 1350), read-only, with the options of RFC 2347: blksize (RFC 2348),
// tsize and timeout (RFC 2349) and windowsize (RFC 7440). Every name is
// checked by the assets store; generated names (pxelinux.cfg/) come from
// their generator. The number of transfers at once is bounded: a request
// past the bound gets an ERROR at once.
package tftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pin/tftp/v3/netascii"
	"github.com/sirupsen/logrus"

	"golang.org/x/net/ipv4"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/logx"
)

// Opener opens a file by the name a client asked for.
type Opener interface {
	Open(name string) (*assets.File, error)
}

// GenerateFunc returns a generated file's content for name (the whole
// requested path) asked by the client at client (invalid when unknown).
// An error wrapping assets.ErrNotFound, or any error, is "file not found".
type GenerateFunc func(name string, client netip.Addr) ([]byte, error)

// Defaults of Options.
const (
	DefaultMaxTransfers = 2000
	DefaultTimeout      = time.Second
	// DefaultRetries: a packet is sent 11 times, a timeout apart, before
	// the transfer is given up. In a boot storm (bench/storm: 1,000
	// machines, TFTP and HTTP from one process on 2 cores) ACKs came back
	// more than 6 s late now and then and 5 retries failed 1-12 % of the
	// transfers; firmware waits that long too.
	DefaultRetries   = 10
	DefaultMaxWindow = 64
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// Files opens the assets tree and the boot programs.
	Files Opener
	// Generated maps a folder prefix such as "pxelinux.cfg/" to the
	// function that generates the files under it; such names never reach
	// Files.
	Generated map[string]GenerateFunc
	// MaxTransfers bounds the transfers in progress (DefaultMaxTransfers);
	// a request past it gets ERROR 0 "server busy".
	MaxTransfers int
	// Timeout is the retransmission timeout when the client asks for none
	// (DefaultTimeout).
	Timeout time.Duration
	// Retries is how often a packet is sent again before the transfer is
	// given up (DefaultRetries).
	Retries int
	// MaxWindow caps RFC 7440 windowsize (DefaultMaxWindow).
	MaxWindow int
	// BlockingTransfers is how many transfers at once wait for the
	// client's ACKs in a blocking read(2), an OS thread each, as a C
	// server does; the others wait in Go's netpoller, which costs more per
	// packet but less per transfer when many run at once. Default: half
	// of GOMAXPROCS, at least 1; negative: none.
	BlockingTransfers int
	Log               logrus.FieldLogger
	// MACOf, when set, names the MAC of the machine at a client address,
	// for the log lines (the timeline knows it from DHCP).
	MACOf func(netip.Addr) string
	// Events, when set, receives one event per transfer or refusal
	// (package events), attributed by the client's address; nil: none.
	Events events.Sink
}

// Counters are the server's running totals.
type Counters struct {
	Transfers atomic.Uint64 // completed
	Failed    atomic.Uint64 // refused or broken off
	Busy      atomic.Uint64 // refused because MaxTransfers were in progress
	Bytes     atomic.Uint64 // file bytes of completed transfers
	Active    atomic.Int64  // in progress now
}

// Server is a read-only TFTP server.
type Server struct {
	opt      Options
	log      logrus.FieldLogger
	mtu      *mtuCache
	Counters Counters

	blocking atomic.Int64 // transfers on a blocking socket

	mu     sync.Mutex
	conns  []net.PacketConn // the listening sockets (one per family)
	closed bool             // no more transfers start (Drain, Shutdown)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a server for opt.
func New(opt Options) *Server {
	if opt.MaxTransfers <= 0 {
		opt.MaxTransfers = DefaultMaxTransfers
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Retries <= 0 {
		opt.Retries = DefaultRetries
	}
	if opt.MaxWindow <= 0 {
		opt.MaxWindow = DefaultMaxWindow
	}
	switch {
	case opt.BlockingTransfers == 0:
		opt.BlockingTransfers = max(1, runtime.GOMAXPROCS(0)/2)
	case opt.BlockingTransfers < 0:
		opt.BlockingTransfers = 0
	}
	opt.Log = logx.OrDiscard(opt.Log)
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{opt: opt, log: opt.Log, mtu: newMTUCache(), ctx: ctx, cancel: cancel}
}

// Serve answers requests on conn, a UDP socket (port 69), until Shutdown.
// Each transfer runs on a socket of its own, from the address the request
// came to (RFC 1350 section 4, transfer identifiers).
func (s *Server) Serve(conn net.PacketConn) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return nil
	}
	s.conns = append(s.conns, conn)
	s.mu.Unlock()
	if isIPv6(conn.LocalAddr()) {
		return s.serve6(conn)
	}
	pc := ipv4.NewPacketConn(conn)
	cm := pc.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true) == nil
	buf := make([]byte, maxPacket)
	for {
		n, ctl, src, err := pc.ReadFrom(buf)
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("tftp: reading a request: %w", err)
		}
		client, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		var dst net.IP
		ifIndex := 0
		if cm && ctl != nil {
			dst, ifIndex = ctl.Dst, ctl.IfIndex
		}
		s.handle(conn, buf[:n], client, dst, ifIndex)
	}
}

// Shutdown stops taking requests, ends the transfers in progress and waits
// for them.
func (s *Server) Shutdown() {
	s.cancel()
	s.stopListening()
	s.wg.Wait()
}

// Drain stops taking requests and lets the transfers in progress finish
// until ctx ends; those still running then are ended as by Shutdown.
// It returns ctx's error when it had to end some.
func (s *Server) Drain(ctx context.Context) error {
	s.stopListening()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Shutdown()
		return ctx.Err()
	}
}

// stopListening closes the server's port; no transfer starts after it.
func (s *Server) stopListening() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
}

// started registers a transfer about to start, unless the server stopped
// listening.
func (s *Server) started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// handle answers one packet that came to the server's port: a read request
// starts a transfer; anything else gets an ERROR.
func (s *Server) handle(listen net.PacketConn, pkt []byte, client *net.UDPAddr, dst net.IP, ifIndex int) {
	req, err := parseRequest(pkt)
	if err != nil {
		s.refuse(listen, client, "", ErrCodeIllegal, err.Error(), err)
		return
	}
	switch {
	case req.op == opWRQ:
		s.refuse(listen, client, req.filename, ErrCodeAccess, "write requests are refused: this server is read-only", errors.New("write request"))
		return
	case req.mode != "octet" && req.mode != "netascii":
		s.refuse(listen, client, req.filename, ErrCodeIllegal, fmt.Sprintf("transfer mode %q is not supported; use octet", req.mode), errors.New("bad mode"))
		return
	}
	if n := s.Counters.Active.Add(1); n > int64(s.opt.MaxTransfers) {
		s.Counters.Active.Add(-1)
		s.Counters.Busy.Add(1)
		s.refuse(listen, client, req.filename, ErrCodeUndefined,
			fmt.Sprintf("server busy: %d transfers in progress, try again later", s.opt.MaxTransfers), errors.New("busy"))
		return
	}
	if !s.started() {
		s.Counters.Active.Add(-1)
		return
	}
	go func() {
		defer s.wg.Done()
		defer s.Counters.Active.Add(-1)
		s.transfer(req, client, localAddr(dst), s.mtu.blockLimit(ifIndex))
	}()
}

// refuse answers a request with an ERROR packet from the server's port.
func (s *Server) refuse(listen net.PacketConn, client *net.UDPAddr, file string, code uint16, msg string, why error) {
	s.Counters.Failed.Add(1)
	s.log.WithFields(s.clientFields(client, logrus.Fields{"file": file, "code": code})).WithError(why).Info("tftp refused")
	s.emit(client, file, 0, 0, int(code), msg)
	listen.WriteTo(appendError(nil, code, msg), client)
}

// localAddr is the address a transfer answers from: the one the request was
// sent to, unless that was a broadcast (then the kernel picks).
func localAddr(dst net.IP) *net.UDPAddr {
	if dst != nil && dst.To4() == nil {
		return localAddr6(dst)
	}
	if dst == nil || dst.Equal(net.IPv4bcast) || dst.IsMulticast() || dst.IsUnspecified() {
		return &net.UDPAddr{IP: net.IPv4zero}
	}
	return &net.UDPAddr{IP: dst}
}

// transfer runs one read transfer from its own socket and logs it.
func (s *Server) transfer(req request, client *net.UDPAddr, local *net.UDPAddr, maxBlock int) {
	start := time.Now()
	log := s.log.WithFields(s.clientFields(client, logrus.Fields{"file": req.filename}))
	conn, release, err := s.dial(local, client)
	if err != nil {
		s.Counters.Failed.Add(1)
		log.WithError(err).Warn("tftp: no socket for the transfer")
		return
	}
	defer release()
	stop := context.AfterFunc(s.ctx, func() { conn.Close() })
	defer stop()

	f, code, err := s.open(req.filename, clientAddr(client))
	if err != nil {
		s.Counters.Failed.Add(1)
		log.WithError(err).Info("tftp refused")
		s.emit(client, req.filename, 0, time.Since(start), int(code), errorMessage(code))
		conn.Write(appendError(nil, code, errorMessage(code)))
		return
	}
	defer f.Close()
	if client.IP.To4() == nil && maxBlock > ipv6Extra {
		maxBlock -= ipv6Extra
	}
	set := negotiate(req.opts, limits{maxBlock: maxBlock, maxWindow: s.opt.MaxWindow, timeout: s.opt.Timeout, size: sizeFor(req.mode, f.Size)})
	snd := newSender(conn, source(req.mode, f, set.blksize), set, s.opt.Retries)
	n, err := snd.run()
	log = log.WithFields(logrus.Fields{"size": n, "duration": time.Since(start).Round(time.Microsecond),
		"blksize": set.blksize, "windowsize": set.window, "resent": snd.resends})
	if err != nil {
		s.Counters.Failed.Add(1)
		log.WithError(err).Warn("tftp transfer failed")
		s.emit(client, req.filename, n, time.Since(start), 0, err.Error())
		return
	}
	s.emit(client, req.filename, n, time.Since(start), 0, "")
	s.Counters.Transfers.Add(1)
	s.Counters.Bytes.Add(uint64(n))
	log.Info("tftp transfer")
}

// transferConn is a transfer's socket.
type transferConn interface {
	peer
	Close() error
}

// dial opens a transfer's socket, connected to the client: a blocking one
// while fewer than BlockingTransfers transfers hold one, else one on Go's
// netpoller. release closes it and gives back its place.
func (s *Server) dial(local, client *net.UDPAddr) (conn transferConn, release func(), err error) {
	if client.IP.To4() == nil {
		return dial6(local, client)
	}
	if n := s.blocking.Add(1); n <= int64(s.opt.BlockingTransfers) {
		c, err := dialBlocking(local, client)
		if err != nil {
			s.blocking.Add(-1)
			return nil, nil, err
		}
		return c, func() { c.release(); s.blocking.Add(-1) }, nil
	}
	s.blocking.Add(-1)
	c, err := net.DialUDP("udp4", local, client)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

// open resolves a requested name: one leading "/" is dropped (the TFTP root
// is the served tree, as with tftpd-hpa --secure), generated folders go to
// their generator, everything else to Files. It returns the ERROR code for
// a failure.
func (s *Server) open(name string, client netip.Addr) (*assets.File, uint16, error) {
	name = strings.TrimPrefix(name, "/")
	rel, err := assets.Clean(name)
	if err != nil {
		return nil, codeOf(err), err
	}
	for prefix, gen := range s.opt.Generated {
		if strings.HasPrefix(rel, prefix) {
			body, err := gen(rel, client)
			if err != nil {
				return nil, ErrCodeNotFound, err
			}
			return memFile(rel, body), 0, nil
		}
	}
	f, err := s.opt.Files.Open(rel)
	if err != nil {
		return nil, codeOf(err), err
	}
	return f, 0, nil
}

// codeOf maps an open error to its TFTP error code.
func codeOf(err error) uint16 {
	if errors.Is(err, assets.ErrUnsafe) {
		return ErrCodeAccess
	}
	return ErrCodeNotFound
}

// errorMessage is what the client reads for a code: the code's meaning
// only, never a path of the server.
func errorMessage(code uint16) string {
	if code == ErrCodeAccess {
		return "access violation: the name leaves the served tree"
	}
	return "file not found"
}

// sizeFor is the size tsize announces: unknown (-1) in netascii mode, whose
// line-end translation changes it.
func sizeFor(mode string, size int64) int64 {
	if mode == "netascii" {
		return -1
	}
	return size
}

// source reads the file for the wire: buffered (one read system call for
// many small blocks), translated to netascii when asked.
func source(mode string, f *assets.File, blksize int) io.Reader {
	var r io.Reader = bufio.NewReaderSize(f, max(64<<10, blksize))
	if mode == "netascii" {
		r = netascii.ToReader(r)
	}
	return r
}

// clientAddr is the client's IPv4 address.
func clientAddr(a *net.UDPAddr) netip.Addr {
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// memFile serves generated content.
func memFile(name string, body []byte) *assets.File {
	r := strings.NewReader(string(body))
	return &assets.File{ReadSeeker: r, Closer: io.NopCloser(r), Name: name, Size: int64(len(body)), ModTime: time.Now()}
}

// emit tells the event sink about a transfer: bytes sent, how long it
// took, and the error code and message when it failed.
func (s *Server) emit(client *net.UDPAddr, file string, n int64, took time.Duration, code int, errMsg string) {
	if s.opt.Events == nil {
		return
	}
	s.opt.Events.Emit(events.Event{
		Time: time.Now(), Kind: events.KindTFTP, Addr: clientAddr(client), File: file,
		Bytes: n, Duration: took, Status: code, Error: errMsg,
	})
}

// clientFields adds the client's address, and its MAC when known, to f.
func (s *Server) clientFields(client *net.UDPAddr, f logrus.Fields) logrus.Fields {
	f["client"] = client.String()
	if s.opt.MACOf != nil {
		if mac := s.opt.MACOf(clientAddr(client)); mac != "" {
			f["mac"] = mac
		}
	}
	return f
}
