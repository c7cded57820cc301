package tftp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// blockingConn is a transfer's UDP socket in blocking mode: Read and Write
// are plain read(2) and write(2) on the transfer's goroutine, which holds
// its OS thread while it waits, as a C server's loop does, instead of
// parking in Go's netpoller (EAGAIN, epoll_pwait, read again) for every
// block. The read deadline is the socket's SO_RCVTIMEO, changed only when
// the time left differs from it by more than rcvTimeoSlack.
type blockingConn struct {
	fd int

	deadline time.Time
	rcvTimeo time.Duration // current SO_RCVTIMEO; 0 before the first set

	closeOnce sync.Once
	closed    chan struct{}
}

// rcvTimeoSlack is how much later than its deadline a read may time out:
// SO_RCVTIMEO is relative to each read(2), so it is left as it is while the
// time left is within this of it (lock-step sets the same timeout for
// every block).
const rcvTimeoSlack = 2 * time.Millisecond

// dialBlocking opens a UDP socket bound to local (port 0: any) and
// connected to remote, in blocking mode.
func dialBlocking(local, remote *net.UDPAddr) (*blockingConn, error) {
	la, err := sockaddr4(local)
	if err != nil {
		return nil, err
	}
	ra, err := sockaddr4(remote)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := syscall.Bind(fd, la); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	if err := syscall.Connect(fd, ra); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	return &blockingConn{fd: fd, closed: make(chan struct{})}, nil
}

func sockaddr4(a *net.UDPAddr) (*syscall.SockaddrInet4, error) {
	sa := &syscall.SockaddrInet4{Port: a.Port}
	ip := a.IP.To4()
	if ip == nil && a.IP != nil {
		return nil, fmt.Errorf("%s is not an IPv4 address", a.IP)
	}
	copy(sa.Addr[:], ip)
	return sa, nil
}

// Write sends one packet.
func (c *blockingConn) Write(b []byte) (int, error) {
	for {
		n, err := syscall.Write(c.fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			if c.isClosed() {
				return 0, net.ErrClosed
			}
			return 0, os.NewSyscallError("write", err)
		}
		return n, nil
	}
}

// Read waits for one packet until the read deadline.
func (c *blockingConn) Read(b []byte) (int, error) {
	for {
		if c.isClosed() {
			return 0, net.ErrClosed
		}
		if err := c.armTimeout(); err != nil {
			return 0, err
		}
		n, err := syscall.Read(c.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if time.Until(c.deadline) > 0 {
				continue // an early wake-up: wait out the rest
			}
			return 0, os.ErrDeadlineExceeded
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && c.isClosed():
			return 0, net.ErrClosed // shut down by Close
		}
		return n, nil
	}
}

// armTimeout sets SO_RCVTIMEO to the time left before the deadline, unless
// it is already within rcvTimeoSlack above it.
func (c *blockingConn) armTimeout() error {
	if c.deadline.IsZero() {
		if c.rcvTimeo != 0 {
			return c.setRcvTimeo(0)
		}
		return nil
	}
	left := time.Until(c.deadline)
	if left <= 0 {
		return os.ErrDeadlineExceeded
	}
	if c.rcvTimeo >= left && c.rcvTimeo-left <= rcvTimeoSlack {
		return nil
	}
	return c.setRcvTimeo(left + rcvTimeoSlack/2)
}

func (c *blockingConn) setRcvTimeo(d time.Duration) error {
	tv := syscall.NsecToTimeval(d.Nanoseconds())
	if d > 0 && tv.Sec == 0 && tv.Usec == 0 {
		tv.Usec = 1
	}
	if err := syscall.SetsockoptTimeval(c.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return os.NewSyscallError("setsockopt SO_RCVTIMEO", err)
	}
	c.rcvTimeo = d
	return nil
}

// SetReadDeadline sets when Read gives up (zero: never). It makes no
// system call; Read arms the socket's timeout.
func (c *blockingConn) SetReadDeadline(t time.Time) error {
	c.deadline = t
	return nil
}

func (c *blockingConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Close wakes a Read in progress (shutdown(2) makes it return) and stops
// further use; it may be called from any goroutine, more than once. The
// descriptor itself is released by release, on the transfer's goroutine,
// so that its number is never reused under a read in progress.
func (c *blockingConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
	})
	return nil
}

// release closes the descriptor; call it once, after the last Read.
func (c *blockingConn) release() error {
	c.Close()
	if err := syscall.Close(c.fd); err != nil && !errors.Is(err, syscall.EBADF) {
		return os.NewSyscallError("close", err)
	}
	return nil
}
