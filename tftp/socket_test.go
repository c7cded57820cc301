package tftp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// socketKinds are the two ways a transfer waits for ACKs: every transfer
// on a blocking socket, and every transfer on the netpoller.
var socketKinds = []struct {
	name     string
	blocking int
}{
	{"blocking", 1 << 20},
	{"netpoller", -1},
}

// TestSocketKinds runs the transfer, loss and block-wrap cases on each kind
// of transfer socket.
func TestSocketKinds(t *testing.T) {
	dir, files := testFiles(t)
	big := randBytes(rand.New(rand.NewSource(4)), 70_000*8+3)
	write(t, filepath.Join(dir, "big"), big)
	files["big"] = big
	for _, kind := range socketKinds {
		t.Run(kind.name, func(t *testing.T) {
			// A short timeout: a lost block is sent again 100 ms on.
			s, addr := startServer(t, dir, Options{BlockingTransfers: kind.blocking, Timeout: 100 * time.Millisecond})
			tests := []struct {
				file string
				opt  ClientOptions
				drop bool
			}{
				{"vmlinuz", ClientOptions{}, false},
				{"vmlinuz", ClientOptions{BlockSize: 1468, TSize: true}, false},
				{"exact", ClientOptions{BlockSize: 1468}, false},
				{"empty", ClientOptions{BlockSize: 8192}, false},
				{"vmlinuz", ClientOptions{BlockSize: 8192, WindowSize: 8}, false},
				{"big", ClientOptions{BlockSize: 8, WindowSize: 64}, false}, // block numbers wrap
				{"boot/initrd.gz", ClientOptions{BlockSize: 1024, Wait: 200 * time.Millisecond}, true},
				{"boot/initrd.gz", ClientOptions{BlockSize: 1024, WindowSize: 8, Wait: 200 * time.Millisecond}, true},
			}
			for _, tt := range tests {
				name := fmt.Sprintf("%s %+v drop=%v", tt.file, tt.opt, tt.drop)
				dropped := 0
				if tt.drop {
					var mu sync.Mutex
					seen := map[uint16]bool{}
					tt.opt.Drop = func(b uint16) bool { // each 7th block once
						mu.Lock()
						defer mu.Unlock()
						if b%7 == 3 && !seen[b] {
							seen[b] = true
							dropped++
							return true
						}
						return false
					}
				}
				got, res, err := fetch(addr, tt.file, tt.opt)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if !bytes.Equal(got, files[tt.file]) {
					t.Errorf("%s: got %d bytes, want %d", name, len(got), len(files[tt.file]))
				}
				if tt.drop && dropped < 5 {
					t.Errorf("%s: only %d blocks dropped; loss was not exercised", name, dropped)
				}
				if tt.file == "big" && res.Packets <= 65536 {
					t.Errorf("%s: %d packets, the block numbers did not wrap", name, res.Packets)
				}
			}
			if f := s.Counters.Failed.Load(); f != 0 {
				t.Errorf("failures counted = %d, want 0", f)
			}
		})
	}
}

// TestRetransmitTiming: a client that never ACKs gets the first block
// Retries+1 times, a Timeout apart, and the transfer is then given up.
func TestRetransmitTiming(t *testing.T) {
	dir, _ := testFiles(t)
	const timeout, retries = 300 * time.Millisecond, 2
	for _, kind := range socketKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, addr := startServer(t, dir, Options{BlockingTransfers: kind.blocking, Timeout: timeout, Retries: retries})
			conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			must(t, err)
			defer conn.Close()
			raddr, _ := net.ResolveUDPAddr("udp4", addr)
			_, err = conn.WriteToUDP([]byte("\x00\x01vmlinuz\x00octet\x00"), raddr)
			must(t, err)
			var arrivals []time.Time
			buf := make([]byte, 1024)
			end := time.Now().Add((retries+2)*timeout + 200*time.Millisecond)
			for {
				conn.SetReadDeadline(end)
				n, _, err := conn.ReadFromUDP(buf)
				if err != nil {
					break
				}
				if n < 4 || binary.BigEndian.Uint16(buf) != opDATA || binary.BigEndian.Uint16(buf[2:]) != 1 {
					t.Fatalf("got %q, want DATA block 1", buf[:min(n, 8)])
				}
				arrivals = append(arrivals, time.Now())
			}
			if len(arrivals) != retries+1 {
				t.Fatalf("block 1 came %d times, want %d", len(arrivals), retries+1)
			}
			for i := 1; i < len(arrivals); i++ {
				// The receiving goroutine may be late for a packet,
				// never early: allow some of that.
				if gap := arrivals[i].Sub(arrivals[i-1]); gap < timeout-50*time.Millisecond {
					t.Errorf("copy %d came %s after the one before, want about %s", i+1, gap, timeout)
				}
			}
			if got := eventually(s.Counters.Failed.Load, 1); got != 1 {
				t.Errorf("failures counted = %d, want 1", got)
			}
		})
	}
}

// TestShutdownMidTransfer: Shutdown ends a transfer that is waiting for an
// ACK at once, not after its timeout.
func TestShutdownMidTransfer(t *testing.T) {
	dir, _ := testFiles(t)
	for _, kind := range socketKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, addr := startServer(t, dir, Options{BlockingTransfers: kind.blocking, Timeout: 10 * time.Second})
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
			start := time.Now()
			s.Shutdown()
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Shutdown took %s with a transfer waiting for an ACK", d)
			}
			if f := s.Counters.Failed.Load(); f != 1 {
				t.Errorf("failures counted = %d, want 1 (the transfer cut off)", f)
			}
		})
	}
}
