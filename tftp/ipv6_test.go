package tftp

import (
	"bytes"
	"net"
	"path/filepath"
	"testing"
)

// TestServeIPv6: one server on an IPv4 and an IPv6 socket answers both;
// generated files see the IPv6 client's address.
func TestServeIPv6(t *testing.T) {
	dir := t.TempDir()
	body := bytes.Repeat([]byte("rackboot"), 1000)
	write(t, filepath.Join(dir, "f.bin"), body)
	s, addr4 := startServer(t, dir, Options{})
	conn6, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(conn6) }()
	t.Cleanup(func() {
		s.Shutdown()
		if err := <-done; err != nil {
			t.Errorf("Serve6: %v", err)
		}
	})
	addr6 := conn6.LocalAddr().String()
	for _, addr := range []string{addr4, addr6} {
		got, _, err := fetch(addr, "f.bin", ClientOptions{BlockSize: 1468})
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("fetch from %s: %d bytes, %v", addr, len(got), err)
		}
	}
	got, _, err := fetch(addr6, "gen/x", ClientOptions{})
	if err != nil || string(got) != "gen/x for ::1" {
		t.Errorf("generated over IPv6: %q, %v", got, err)
	}
}
