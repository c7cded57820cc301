//go:build linux

package dhcpsock

import (
	"bytes"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestBatchReader queues more datagrams than one batch holds on a loopback
// UDP socket and reads them back: all of them, in order, byte for byte,
// more than one per system call, the longest truncated to a slot; then it
// blocks for the next datagram sent later.
func TestBatchReader(t *testing.T) {
	conn, rc := loopbackUDP(t)
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	const count = batchLen + 7
	want := make([][]byte, count)
	for i := range want {
		want[i] = fmt.Appendf(nil, "datagram %d", i)
		if i == 3 {
			want[i] = bytes.Repeat([]byte{'x'}, slotLen+100)
		}
		if _, err := out.Write(want[i]); err != nil {
			t.Fatal(err)
		}
	}
	r := newBatchReader(rc)
	for i := range want {
		got, err := r.read()
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		w := want[i]
		if len(w) > slotLen {
			w = w[:slotLen]
		}
		if !bytes.Equal(got, w) {
			t.Fatalf("datagram %d: got %q, want %q", i, got, w)
		}
		if i == 0 && r.n < 2 {
			t.Errorf("first batch held %d datagrams, want several of the %d queued", r.n, count)
		}
	}

	go func() {
		time.Sleep(50 * time.Millisecond)
		out.Write([]byte("late"))
	}()
	got, err := r.read()
	if err != nil || string(got) != "late" {
		t.Fatalf("after waiting: %q, %v", got, err)
	}
	conn.Close()
	if _, err := r.read(); err == nil {
		t.Fatal("read on a closed socket returned no error")
	}
}

// TestSendTo sends datagrams through a UDP socket's RawConn to a loopback
// socket and reads them back byte for byte; one too long for UDP fails
// with the kernel's error.
func TestSendTo(t *testing.T) {
	in, _ := loopbackUDP(t)
	out, rc := loopbackUDP(t)
	dst := in.LocalAddr().(*net.UDPAddr).AddrPort()
	for i := range 3 {
		want := fmt.Appendf(nil, "reply %d", i)
		if err := sendTo(rc, want, dst); err != nil {
			t.Fatal(err)
		}
		in.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 100)
		n, from, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[:n], want) || from != out.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Fatalf("got %q from %s, want %q from %s", buf[:n], from, want, out.LocalAddr())
		}
	}
	if err := sendTo(rc, make([]byte, 70000), dst); err == nil {
		t.Fatal("a 70,000-byte datagram was sent without error")
	}
}

// loopbackUDP is a UDP socket on 127.0.0.1 and its RawConn, closed when
// the test ends.
func loopbackUDP(t *testing.T) (*net.UDPConn, syscall.RawConn) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return c, rc
}
