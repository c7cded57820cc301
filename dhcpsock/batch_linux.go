//go:build linux

package dhcpsock

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
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

// recvmmsg receives up to len(hdrs) datagrams without blocking. Like
// sendTo it enters the kernel without the runtime's system-call
// bookkeeping: the call never blocks, and announcing it would only let the
// scheduler hand this thread's processor to another thread meanwhile.
func recvmmsg(fd int, hdrs []mmsghdr) (int, error) {
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])),
		uintptr(len(hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// sendTo sends one datagram to dst through a UDP socket's RawConn without
// blocking, waiting in the runtime poller if the socket's send queue is
// full. It skips what WriteToUDP adds per call (an address converted and
// allocated, the system call announced to the scheduler, which under load
// hands the processor to another thread for the microseconds sendto(2)
// takes and wakes it back).
func sendTo(rc syscall.RawConn, payload []byte, dst netip.AddrPort) error {
	sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.Addr().As4()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], dst.Port())
	var errno syscall.Errno
	err := rc.Write(func(fd uintptr) bool {
		_, _, errno = unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(payload))),
			uintptr(len(payload)), unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
		return errno != unix.EAGAIN && errno != unix.EINTR
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return os.NewSyscallError("sendto", errno)
	}
	return nil
}
