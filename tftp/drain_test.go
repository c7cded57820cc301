package tftp

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

// TestDrain: Drain lets a transfer in progress finish, refuses new
// requests meanwhile (the port is closed), and ends a transfer still
// running when its context ends.
func TestDrain(t *testing.T) {
	dir, files := testFiles(t)
	t.Run("finishes", func(t *testing.T) {
		s, addr := startServer(t, dir, Options{})
		started := make(chan struct{})
		var once bool
		slow := func(uint16) bool { // about 600 blocks of 512 bytes, 1 ms each
			if !once {
				once = true
				close(started)
			}
			time.Sleep(time.Millisecond)
			return false
		}
		var got bytes.Buffer
		done := make(chan error, 1)
		go func() {
			_, err := Fetch(addr, "vmlinuz", ClientOptions{Drop: slow}, &got)
			done <- err
		}()
		<-started
		if err := s.Drain(context.Background()); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("transfer in progress during Drain: %v", err)
		}
		if !bytes.Equal(got.Bytes(), files["vmlinuz"]) {
			t.Fatalf("got %d bytes, want the %d of vmlinuz", got.Len(), len(files["vmlinuz"]))
		}
		if _, err := Fetch(addr, "vmlinuz", ClientOptions{Wait: 50 * time.Millisecond}, &bytes.Buffer{}); err == nil {
			t.Error("a request after Drain was answered")
		}
	})
	t.Run("deadline", func(t *testing.T) {
		s, addr := startServer(t, dir, Options{Timeout: 10 * time.Second})
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		must(t, err)
		defer conn.Close()
		raddr, _ := net.ResolveUDPAddr("udp4", addr)
		_, err = conn.WriteToUDP([]byte("\x00\x01vmlinuz\x00octet\x00"), raddr)
		must(t, err)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := conn.ReadFromUDP(make([]byte, 1024)); err != nil {
			t.Fatalf("no first block: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := s.Drain(ctx); err == nil {
			t.Error("Drain returned nil with a stalled transfer")
		}
		if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
			t.Errorf("Drain took %s, want about the 300 ms of its context", d)
		}
		if f := s.Counters.Failed.Load(); f != 1 {
			t.Errorf("failures counted = %d, want 1 (the transfer cut off)", f)
		}
	})
}
