//go:build linux

package dhcpsock

import (
	"errors"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batch sizes of the receive path: up to batchLen datagrams per
// recvmmsg(2), each up to slotLen bytes. A DHCP request fits in one
// Ethernet frame (RFC 2131 section 2: clients need accept no more than 576
// octets); a longer datagram is truncated and then refused by parseUDP4,
// whose length check sees the IPv4 total length past the bytes read.
const (
	batchLen = 32
	slotLen  = 2048
)

// mmsghdr is struct mmsghdr of recvmmsg(2): one message header and the
// length the kernel received into it.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// batchReader reads datagrams from a socket in batches with recvmmsg(2),
// waiting in the runtime's poller when none is queued, and hands them out
// one at a time. Under load one system call returns every datagram queued
// since the last, instead of one each; when idle it costs what recvfrom(2)
// does. It is for one reader goroutine.
type batchReader struct {
	rc   syscall.RawConn
	mem  []byte
	iovs []unix.Iovec
	hdrs []mmsghdr
	n    int // datagrams in the current batch
	next int // the next one to hand out
}

func newBatchReader(rc syscall.RawConn) *batchReader {
	r := &batchReader{
		rc:   rc,
		mem:  make([]byte, batchLen*slotLen),
		iovs: make([]unix.Iovec, batchLen),
		hdrs: make([]mmsghdr, batchLen),
	}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.mem[i*slotLen]
		r.iovs[i].SetLen(slotLen)
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
	}
	return r
}

// read returns the next datagram; its bytes stay valid until the next call.
func (r *batchReader) read() ([]byte, error) {
	if r.next >= r.n {
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
	i := r.next
	r.next++
	return r.mem[i*slotLen : i*slotLen+int(min(r.hdrs[i].len, slotLen))], nil
}

// fill blocks until at least one datagram is queued and takes up to
// batchLen of them.
func (r *batchReader) fill() error {
	var n int
	var serr error
	err := r.rc.Read(func(fd uintptr) bool {
		n, serr = recvmmsg(int(fd), r.hdrs)
		return !errors.Is(serr, unix.EAGAIN) && !errors.Is(serr, unix.EINTR)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		r.n, r.next = 0, 0
		return err
	}
	r.n, r.next = n, 0
	return nil
}

// recvmmsg receives up to len(hdrs) datagrams without blocking.
func recvmmsg(fd int, hdrs []mmsghdr) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])),
		uintptr(len(hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
