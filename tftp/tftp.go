// Package tftp serves boot programs and assets over TFTP (RFC 1350, with
// the blksize and tsize options of RFC 2348 and RFC 2349), read-only, with
// every name checked by the assets store.
package tftp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pin/tftp/v3"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/assets"
)

// Opener opens a file by the name a client asked for.
type Opener interface {
	Open(name string) (*assets.File, error)
}

// Counters are the server's running totals.
type Counters struct {
	Transfers atomic.Uint64 // completed
	Failed    atomic.Uint64 // refused or broken off
	Bytes     atomic.Uint64
}

// Server is a read-only TFTP server.
type Server struct {
	files    Opener
	log      logrus.FieldLogger
	srv      *tftp.Server
	Counters Counters
}

// New returns a server that serves what files opens. Write requests are
// refused.
func New(files Opener, log logrus.FieldLogger) *Server {
	s := &Server{files: files, log: log}
	s.srv = tftp.NewServer(s.read, nil)
	s.srv.SetTimeout(2 * time.Second)
	return s
}

// Serve answers requests on conn until Shutdown.
func (s *Server) Serve(conn net.PacketConn) error { return s.srv.Serve(conn) }

// Shutdown stops the server and waits for transfers in flight.
func (s *Server) Shutdown() { s.srv.Shutdown() }

// read is the read-request handler: it resolves the name, announces the
// size (tsize) and sends the file.
func (s *Server) read(name string, rf io.ReaderFrom) error {
	start := time.Now()
	client := clientOf(rf)
	log := s.log.WithFields(logrus.Fields{"client": client, "file": name})
	f, err := s.files.Open(strings.TrimPrefix(name, "/"))
	if err != nil {
		s.Counters.Failed.Add(1)
		log.WithError(err).Info("tftp refused")
		return tftpError(err)
	}
	defer f.Close()
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		ot.SetSize(f.Size)
	}
	n, err := rf.ReadFrom(f)
	log = log.WithFields(logrus.Fields{"size": n, "duration": time.Since(start).Round(time.Millisecond)})
	if err != nil {
		s.Counters.Failed.Add(1)
		log.WithError(err).Warn("tftp transfer failed")
		return err
	}
	s.Counters.Transfers.Add(1)
	s.Counters.Bytes.Add(uint64(n))
	log.Info("tftp transfer")
	return nil
}

// tftpError turns an open error into the message the client sees.
func tftpError(err error) error {
	if errors.Is(err, assets.ErrUnsafe) {
		return errors.New("access violation: path outside the served tree")
	}
	return fmt.Errorf("file not found")
}

// clientOf names the remote end of a transfer.
func clientOf(rf io.ReaderFrom) string {
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		a := ot.RemoteAddr()
		return a.String()
	}
	return "?"
}
