//go:build linux

package dhcpsock

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestBatchReader queues more datagrams than one batch holds on a loopback
// UDP socket and reads them back: all of them, in order, byte for byte,
// more than one per system call, the longest truncated to a slot; then it
// blocks for the next datagram sent later.
func TestBatchReader(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
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
