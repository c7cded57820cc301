package tftp

import (
	"strconv"
	"time"
)

// Option limits.
const (
	defaultBlockSize = 512   // RFC 1350
	minBlockSize     = 8     // RFC 2348
	maxBlockSize     = 65464 // RFC 2348
	minTimeout       = 1     // seconds, RFC 2349
	maxTimeout       = 255   // seconds, RFC 2349
	maxWindowSize    = 65535 // RFC 7440
	// ipUDPTFTPOverhead is what an IPv4 DATA packet adds to its block: IPv4
	// header 20, UDP header 8, TFTP header 4.
	ipUDPTFTPOverhead = 32
)

// settings are a transfer's negotiated parameters.
type settings struct {
	blksize int
	window  int
	timeout time.Duration
	tsize   bool // announce the size
	oack    []option
}

// limits are the server's side of a negotiation.
type limits struct {
	maxBlock  int // from the interface MTU; 0 for no MTU limit
	maxWindow int
	timeout   time.Duration // when the client asks for none
	size      int64         // the file's size; -1 when not known
}

// negotiate answers a request's options (RFC 2347): blksize (RFC 2348) is
// lowered to what fits the interface's MTU unfragmented, tsize (RFC 2349)
// is answered with the file's size, timeout (RFC 2349) is accepted as
// asked, windowsize (RFC 7440) is lowered to the server's maximum. A value
// out of its RFC's range, and any other option, is left out of the OACK,
// which RFC 2347 allows; the transfer then uses the default.
func negotiate(opts []option, l limits) settings {
	s := settings{blksize: defaultBlockSize, window: 1, timeout: l.timeout}
	for _, o := range opts {
		n, err := strconv.Atoi(o.value)
		if err != nil {
			continue
		}
		switch o.name {
		case "blksize":
			if n < minBlockSize {
				continue
			}
			s.blksize = min(n, maxBlockSize)
			if l.maxBlock > 0 {
				s.blksize = min(s.blksize, max(l.maxBlock, defaultBlockSize))
			}
			s.oack = append(s.oack, option{o.name, strconv.Itoa(s.blksize)})
		case "tsize":
			if n != 0 || l.size < 0 {
				continue
			}
			s.tsize = true
			s.oack = append(s.oack, option{o.name, strconv.FormatInt(l.size, 10)})
		case "timeout":
			if n < minTimeout || n > maxTimeout {
				continue
			}
			s.timeout = time.Duration(n) * time.Second
			s.oack = append(s.oack, option{o.name, strconv.Itoa(n)})
		case "windowsize":
			if n < 1 || n > maxWindowSize {
				continue
			}
			s.window = min(n, max(l.maxWindow, 1))
			s.oack = append(s.oack, option{o.name, strconv.Itoa(s.window)})
		}
	}
	return s
}
