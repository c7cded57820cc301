package tftp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pintftp "github.com/pin/tftp/v3"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/assets"
)

// testFiles writes the served tree: files of awkward sizes, a subfolder, a
// symlink out of the tree and one inside it, and a secret next to the tree.
func testFiles(t *testing.T) (dir string, files map[string][]byte) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "assets")
	rnd := rand.New(rand.NewSource(1))
	files = map[string][]byte{
		"vmlinuz":        randBytes(rnd, 300_001),
		"exact":          randBytes(rnd, 4*1468), // a multiple of the block size: an empty final block
		"empty":          {},
		"boot/initrd.gz": randBytes(rnd, 70_000),
	}
	for name, b := range files {
		write(t, filepath.Join(dir, name), b)
	}
	write(t, filepath.Join(root, "secret"), []byte("secret"))
	must(t, os.Symlink(filepath.Join(root, "secret"), filepath.Join(dir, "out")))
	must(t, os.Symlink("vmlinuz", filepath.Join(dir, "in")))
	must(t, os.Symlink(root, filepath.Join(dir, "up")))
	return dir, files
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	r.Read(b)
	return b
}

func write(t testing.TB, name string, b []byte) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(name), 0o755))
	must(t, os.WriteFile(name, b, 0o644))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startServer serves dir on a loopback port; generated names under
// "gen/" echo the name and the client address.
func startServer(t testing.TB, dir string, opt Options) (*Server, string) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	if os.Getenv("TFTP_TEST_LOG") != "" {
		log.SetOutput(os.Stderr)
		log.SetLevel(logrus.DebugLevel)
	}
	if opt.Log == nil {
		opt.Log = log
	}
	opt.Files = assets.New(dir, log).WithoutEmbedded().WithSystemDir(t.TempDir())
	if opt.Generated == nil {
		opt.Generated = map[string]GenerateFunc{"gen/": func(name string, client netip.Addr) ([]byte, error) {
			if name == "gen/missing" {
				return nil, assets.ErrNotFound
			}
			return []byte(name + " for " + client.String()), nil
		}}
	}
	s := New(opt)
	done := make(chan error, 1)
	go func() { done <- s.Serve(conn) }()
	t.Cleanup(func() {
		s.Shutdown()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, conn.LocalAddr().String()
}

func fetch(addr, name string, opt ClientOptions) ([]byte, FetchResult, error) {
	var buf bytes.Buffer
	res, err := Fetch(addr, name, opt, &buf)
	return buf.Bytes(), res, err
}

// TestTransfer fetches every file at several block and window sizes and
// compares the bytes.
func TestTransfer(t *testing.T) {
	dir, files := testFiles(t)
	s, addr := startServer(t, dir, Options{})
	n := 0
	for name, want := range files {
		for _, blk := range []int{0, 512, 1468, 8192, 65464} {
			for _, win := range []int{0, 1, 4, 64} {
				got, _, err := fetch(addr, name, ClientOptions{BlockSize: blk, WindowSize: win, TSize: true})
				n++
				if err != nil {
					t.Errorf("%s blksize %d windowsize %d: %v", name, blk, win, err)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s blksize %d windowsize %d: got %d bytes, want %d", name, blk, win, len(got), len(want))
				}
			}
		}
	}
	if got := eventually(s.Counters.Transfers.Load, uint64(n)); got != uint64(n) {
		t.Errorf("transfers counted = %d, want %d", got, n)
	}
	if got, want := s.Counters.Bytes.Load(), totalBytes(files)*20; got != want {
		t.Errorf("bytes counted = %d, want %d", got, want)
	}
}

func totalBytes(files map[string][]byte) uint64 {
	var n uint64
	for _, b := range files {
		n += uint64(len(b))
	}
	return n
}

// TestOptions checks the OACK for each option (RFC 2347-2349, RFC 7440).
func TestOptions(t *testing.T) {
	dir, files := testFiles(t)
	_, addr := startServer(t, dir, Options{MaxWindow: 16})
	size := fmt.Sprint(len(files["vmlinuz"]))
	tests := []struct {
		name string
		opt  ClientOptions
		want map[string]string
	}{
		{"no options, no OACK", ClientOptions{}, nil},
		{"blksize", ClientOptions{BlockSize: 1468}, map[string]string{"blksize": "1468"}},
		{"blksize above RFC 2348's maximum is lowered", ClientOptions{BlockSize: 70000}, map[string]string{"blksize": "65464"}},
		{"blksize below 8 is ignored", ClientOptions{BlockSize: 7}, nil},
		{"tsize", ClientOptions{TSize: true}, map[string]string{"tsize": size}},
		{"timeout", ClientOptions{Timeout: 3}, map[string]string{"timeout": "3"}},
		{"timeout above 255 is ignored", ClientOptions{Timeout: 256}, nil},
		{"windowsize", ClientOptions{WindowSize: 8}, map[string]string{"windowsize": "8"}},
		{"windowsize lowered to the server's maximum", ClientOptions{WindowSize: 100}, map[string]string{"windowsize": "16"}},
		{"all four", ClientOptions{BlockSize: 1024, TSize: true, Timeout: 2, WindowSize: 4},
			map[string]string{"blksize": "1024", "tsize": size, "timeout": "2", "windowsize": "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res, err := fetch(addr, "vmlinuz", tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, files["vmlinuz"]) {
				t.Errorf("got %d bytes, want %d", len(got), len(files["vmlinuz"]))
			}
			if fmt.Sprint(res.OACK) != fmt.Sprint(tt.want) {
				t.Errorf("OACK (-want +got):\n-%v\n+%v", tt.want, res.OACK)
			}
		})
	}
}

// TestLoss drops DATA packets at the client; the server must resend them
// (after its timeout, or at once on an RFC 7440 gap ACK).
func TestLoss(t *testing.T) {
	dir, files := testFiles(t)
	s, addr := startServer(t, dir, Options{})
	for _, win := range []int{1, 8} {
		t.Run(fmt.Sprint("windowsize ", win), func(t *testing.T) {
			var mu sync.Mutex
			dropped := map[uint16]bool{}
			drop := func(b uint16) bool { // each 7th block once
				mu.Lock()
				defer mu.Unlock()
				if b%7 == 3 && !dropped[b] {
					dropped[b] = true
					return true
				}
				return false
			}
			got, _, err := fetch(addr, "boot/initrd.gz", ClientOptions{BlockSize: 1024, WindowSize: win, Timeout: 1, Wait: 200 * time.Millisecond, Drop: drop})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, files["boot/initrd.gz"]) {
				t.Fatalf("got %d bytes, want %d", len(got), len(files["boot/initrd.gz"]))
			}
			if len(dropped) < 5 {
				t.Errorf("only %d blocks dropped; the test did not exercise loss", len(dropped))
			}
		})
	}
	if s.Counters.Failed.Load() != 0 {
		t.Errorf("failures counted = %d, want 0", s.Counters.Failed.Load())
	}
}

// TestBlockRollover sends more than 65535 blocks: block numbers wrap to 0.
func TestBlockRollover(t *testing.T) {
	dir := t.TempDir()
	want := randBytes(rand.New(rand.NewSource(2)), 70_000*8+3)
	write(t, filepath.Join(dir, "big"), want)
	_, addr := startServer(t, dir, Options{})
	got, res, err := fetch(addr, "big", ClientOptions{BlockSize: 8, WindowSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want %d", len(got), len(want))
	}
	if res.Packets <= 65536 {
		t.Errorf("%d packets, the test did not wrap", res.Packets)
	}
}

// TestPathResolution is the table of names: what is served and which TFTP
// error every traversal form gets (1 file not found, 2 access violation).
func TestPathResolution(t *testing.T) {
	dir, files := testFiles(t)
	_, addr := startServer(t, dir, Options{})
	tests := []struct {
		name     string
		wantFile string // served with the content of this file, or
		wantCode uint16 // refused with this error code
	}{
		{"vmlinuz", "vmlinuz", 0},
		{"boot/initrd.gz", "boot/initrd.gz", 0},
		{"/vmlinuz", "vmlinuz", 0}, // one leading slash: the TFTP root
		{"/boot/initrd.gz", "boot/initrd.gz", 0},
		{"./vmlinuz", "vmlinuz", 0},
		{"boot//initrd.gz", "boot/initrd.gz", 0},
		{"in", "vmlinuz", 0}, // a symlink inside the tree
		{"//vmlinuz", "", ErrCodeAccess},
		{"/etc/passwd", "", ErrCodeNotFound}, // is etc/passwd under the root
		{"//etc/passwd", "", ErrCodeAccess},
		{"../secret", "", ErrCodeAccess},
		{"/../secret", "", ErrCodeAccess},
		{"..", "", ErrCodeAccess},
		{"boot/../../secret", "", ErrCodeAccess},
		{"boot/../vmlinuz", "", ErrCodeAccess}, // ".." is refused even when it stays inside
		{"boot/..", "", ErrCodeAccess},
		{"..\\secret", "", ErrCodeAccess},
		{"boot\\initrd.gz", "", ErrCodeAccess},
		{"\\vmlinuz", "", ErrCodeAccess},
		{"C:\\secret", "", ErrCodeAccess},
		{"out", "", ErrCodeAccess}, // symlink to a file out of the tree
		{"up/secret", "", ErrCodeAccess},
		{"up/assets/vmlinuz", "", ErrCodeAccess}, // out and back in: os.Root refuses any step out
		{"boot", "", ErrCodeNotFound},            // a folder
		{".", "", ErrCodeNotFound},
		{"/", "", ErrCodeAccess}, // the root itself: an empty name
		{"missing", "", ErrCodeNotFound},
		{"undionly.kpxe", "", ErrCodeNotFound}, // not embedded in this test, not in the system dir
		{"gen/missing", "", ErrCodeNotFound},
		{"gen/../secret", "", ErrCodeAccess},
		{"vmlinuz%00", "", ErrCodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := fetch(addr, tt.name, ClientOptions{})
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !bytes.Equal(got, files[tt.wantFile]) {
					t.Errorf("served %d bytes, want %s (%d bytes)", len(got), tt.wantFile, len(files[tt.wantFile]))
				}
				return
			}
			var se *ServerError
			if !errors.As(err, &se) {
				t.Fatalf("got %d bytes and error %v, want TFTP error %d", len(got), err, tt.wantCode)
			}
			if se.Code != tt.wantCode {
				t.Errorf("error code (-want +got): -%d +%d (%q)", tt.wantCode, se.Code, se.Msg)
			}
			if strings.Contains(se.Msg, dir) {
				t.Errorf("error message %q reveals the server's path", se.Msg)
			}
		})
	}
}

// TestRawRequests sends requests a normal client cannot: a NUL inside the
// name, write requests, bad modes, garbage.
func TestRawRequests(t *testing.T) {
	dir, _ := testFiles(t)
	s, addr := startServer(t, dir, Options{})
	tests := []struct {
		name string
		pkt  string
		code uint16
	}{
		{"NUL inside the name", "\x00\x01vmlinuz\x00../secret\x00octet\x00", ErrCodeIllegal},
		{"write request", "\x00\x02upload\x00octet\x00", ErrCodeAccess},
		{"write request over a served file", "\x00\x02vmlinuz\x00octet\x00", ErrCodeAccess},
		{"mail mode", "\x00\x01vmlinuz\x00mail\x00", ErrCodeIllegal},
		{"no mode", "\x00\x01vmlinuz\x00", ErrCodeIllegal},
		{"not NUL-terminated", "\x00\x01vmlinuz\x00octet", ErrCodeIllegal},
		{"DATA to the server port", "\x00\x03\x00\x01hello", ErrCodeIllegal},
		{"one byte", "\x00", ErrCodeIllegal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := rawRequest(t, addr, []byte(tt.pkt))
			if code != tt.code {
				t.Errorf("error code (-want +got): -%d +%d (%q)", tt.code, code, msg)
			}
		})
	}
	if got := eventually(s.Counters.Failed.Load, uint64(len(tests))); got != uint64(len(tests)) {
		t.Errorf("failures counted = %d, want %d", got, len(tests))
	}
	// A write through a real client library fails too.
	c, err := pintftp.NewClient(addr)
	must(t, err)
	rf, err := c.Send("upload", "octet")
	if err == nil {
		_, err = rf.ReadFrom(bytes.NewReader([]byte("data")))
	}
	if err == nil {
		t.Error("a write request was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "upload")); err == nil {
		t.Error("a write request created a file")
	}
}

// rawRequest sends pkt and returns the ERROR code of the answer.
func rawRequest(t *testing.T, addr string, pkt []byte) (uint16, string) {
	t.Helper()
	conn, err := net.Dial("udp4", addr)
	must(t, err)
	defer conn.Close()
	conn.Write(pkt)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	b := make([]byte, 1024)
	n, err := conn.Read(b)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	r, err := parseReply(b[:n])
	if err != nil || r.op != opERROR {
		t.Fatalf("answer %q is not an ERROR", b[:n])
	}
	return r.code, r.msg
}

// TestGenerated: generated names get the client's address, and never reach
// the assets tree.
func TestGenerated(t *testing.T) {
	dir, _ := testFiles(t)
	write(t, filepath.Join(dir, "gen", "x"), []byte("from disk"))
	_, addr := startServer(t, dir, Options{})
	for _, name := range []string{"gen/x", "/gen/x"} {
		got, res, err := fetch(addr, name, ClientOptions{TSize: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := "gen/x for 127.0.0.1"; string(got) != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
		if res.OACK["tsize"] != fmt.Sprint(len(got)) {
			t.Errorf("%s: tsize %q for %d bytes", name, res.OACK["tsize"], len(got))
		}
	}
}

// TestManyAtOnce runs 1,000 transfers at the same time; none may fail.
func TestManyAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 transfers: not in -short")
	}
	dir, files := testFiles(t)
	s, addr := startServer(t, dir, Options{MaxTransfers: 1000})
	const clients = 1000
	errs := make(chan error, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, _, err := fetch(addr, "boot/initrd.gz", ClientOptions{BlockSize: 1468, Wait: 2 * time.Second})
			if err == nil && !bytes.Equal(got, files["boot/initrd.gz"]) {
				err = fmt.Errorf("got %d bytes", len(got))
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d transfers failed", failed, clients)
	}
	if got := eventually(s.Counters.Transfers.Load, clients); got != clients {
		t.Errorf("transfers counted = %d, want %d", got, clients)
	}
	if b := s.Counters.Busy.Load(); b != 0 {
		t.Errorf("%d requests refused as busy", b)
	}
}

// TestBusy: past MaxTransfers a client gets ERROR 0 at once, not a stall;
// once a transfer ends, requests are served again.
func TestBusy(t *testing.T) {
	dir, files := testFiles(t)
	s, addr := startServer(t, dir, Options{MaxTransfers: 2, Timeout: 300 * time.Millisecond, Retries: 2})
	// Two clients that ask and never ACK hold both slots.
	for i := 0; i < 2; i++ {
		// Not a connected socket: that would make the kernel answer the
		// server's OACK (from another port) with port unreachable.
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		must(t, err)
		defer conn.Close()
		raddr, _ := net.ResolveUDPAddr("udp4", addr)
		conn.WriteToUDP([]byte("\x00\x01vmlinuz\x00octet\x00blksize\x001024\x00"), raddr)
	}
	if got := eventually(func() uint64 { return uint64(s.Counters.Active.Load()) }, 2); got != 2 {
		t.Fatalf("active transfers = %d, want 2", got)
	}
	start := time.Now()
	_, _, err := fetch(addr, "vmlinuz", ClientOptions{})
	var se *ServerError
	if !errors.As(err, &se) || se.Code != ErrCodeUndefined || !strings.Contains(se.Msg, "busy") {
		t.Fatalf("third client: %v, want TFTP error 0 server busy", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the busy answer took %s", d)
	}
	if s.Counters.Busy.Load() != 1 {
		t.Errorf("busy counted = %d, want 1", s.Counters.Busy.Load())
	}
	// The silent transfers give up after their retries.
	if got := eventually(func() uint64 { return uint64(s.Counters.Active.Load()) }, 0); got != 0 {
		t.Fatalf("active transfers = %d after the timeouts, want 0", got)
	}
	got, _, err := fetch(addr, "vmlinuz", ClientOptions{})
	if err != nil || !bytes.Equal(got, files["vmlinuz"]) {
		t.Errorf("after the bound freed: %d bytes, %v", len(got), err)
	}
}

// TestRealClients fetches with tftp-hpa's tftp and with curl, the clients
// people use, when installed.
func TestRealClients(t *testing.T) {
	dir, files := testFiles(t)
	_, addr := startServer(t, dir, Options{})
	host, port, _ := net.SplitHostPort(addr)
	out := t.TempDir()
	t.Run("tftp-hpa", func(t *testing.T) {
		if _, err := exec.LookPath("tftp"); err != nil {
			t.Skip("tftp (tftp-hpa) not installed: apt-get install tftp-hpa")
		}
		for _, blk := range []string{"512", "1468"} {
			dst := filepath.Join(out, "hpa-"+blk)
			cmd := exec.Command("tftp", "-m", "binary", host, port, "-c", "get", "boot/initrd.gz", dst)
			if blk != "512" {
				cmd = exec.Command("tftp", "-m", "binary", "-v", host, port, "-c", "get", "boot/initrd.gz", dst)
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
			}
			checkFile(t, dst, files["boot/initrd.gz"])
		}
		// tftp-hpa's default mode is netascii.
		dst := filepath.Join(out, "hpa-ascii")
		write(t, filepath.Join(dir, "text"), []byte("line one\nline two\n"))
		if b, err := exec.Command("tftp", host, port, "-c", "get", "text", dst).CombinedOutput(); err != nil {
			t.Fatalf("netascii: %v\n%s", err, b)
		}
		checkFile(t, dst, []byte("line one\nline two\n"))
	})
	t.Run("curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl not installed")
		}
		for _, blk := range []string{"512", "1468", "8192"} {
			dst := filepath.Join(out, "curl-"+blk)
			args := []string{"-sS", "--tftp-blksize", blk, "-o", dst, "tftp://" + addr + "/vmlinuz"}
			if b, err := exec.Command("curl", args...).CombinedOutput(); err != nil {
				t.Fatalf("curl %v: %v\n%s", args, err, b)
			}
			checkFile(t, dst, files["vmlinuz"])
		}
		b, err := exec.Command("curl", "-sS", "-o", filepath.Join(out, "x"), "tftp://"+addr+"/../secret").CombinedOutput()
		if err == nil {
			t.Errorf("curl fetched ../secret: %s", b)
		}
	})
}

func checkFile(t *testing.T, name string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(name)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes, want %d", name, len(got), len(want))
	}
}

// eventually polls a counter that the server updates after the client has
// its last packet, for up to five seconds.
func eventually(get func() uint64, want uint64) uint64 {
	deadline := time.Now().Add(5 * time.Second)
	for get() != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return get()
}

// FuzzParseRequest: requests come from the network; parsing must not panic
// and what it accepts must be a read or write request with a mode.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"\x00\x01vmlinuz\x00octet\x00", "\x00\x01a\x00octet\x00blksize\x001468\x00tsize\x000\x00", "\x00\x02x\x00netascii\x00", "\x00\x01\x00\x00", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRequest(b)
		if err != nil {
			return
		}
		if r.op != opRRQ && r.op != opWRQ {
			t.Errorf("accepted opcode %d", r.op)
		}
		negotiate(r.opts, limits{maxBlock: 1468, maxWindow: 64, timeout: time.Second, size: 10})
	})
}
