package tftp

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pin/tftp/v3"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/assets"
)

// startServer serves dir on a loopback port and returns its address.
func startServer(t *testing.T, dir string) (*Server, string) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := New(assets.New(dir, log).WithoutEmbedded().WithSystemDir(t.TempDir()), log)
	go s.Serve(conn)
	t.Cleanup(s.Shutdown)
	return s, conn.LocalAddr().String()
}

func fetch(t *testing.T, addr, name string, blksize int) ([]byte, error) {
	t.Helper()
	c, err := tftp.NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetBlockSize(blksize)
	wt, err := c.Receive(name, "octet")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	return buf.Bytes(), err
}

// TestTransfer fetches a file larger than one block at two block sizes.
func TestTransfer(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	if err := os.WriteFile(filepath.Join(dir, "vmlinuz"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	s, addr := startServer(t, dir)
	for _, blk := range []int{512, 1468} {
		got, err := fetch(t, addr, "vmlinuz", blk)
		if err != nil {
			t.Fatalf("blksize %d: %v", blk, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("blksize %d: got %d bytes, want %d", blk, len(got), len(want))
		}
	}
	if n := eventually(func() uint64 { return s.Counters.Transfers.Load() }, 2); n != 2 {
		t.Errorf("transfers counted = %d, want 2", n)
	}
}

// TestRefused checks names that must not be served and write requests.
func TestRefused(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "assets")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(root, "secret"), []byte("x"), 0o644)
	os.Symlink(filepath.Join(root, "secret"), filepath.Join(dir, "link"))
	s, addr := startServer(t, dir)
	for _, name := range []string{"../secret", "/etc/passwd", "a/../../secret", "..\\secret", "link", "missing", "undionly.kpxe"} {
		if _, err := fetch(t, addr, name, 512); err == nil {
			t.Errorf("%q was served", name)
		}
	}
	if n := eventually(func() uint64 { return s.Counters.Failed.Load() }, 7); n != 7 {
		t.Errorf("failures counted = %d, want 7", n)
	}
	c, _ := tftp.NewClient(addr)
	rf, err := c.Send("upload", "octet")
	if err == nil {
		_, err = rf.ReadFrom(bytes.NewReader([]byte("data")))
	}
	if err == nil {
		t.Error("a write request was accepted")
	}
}

// eventually polls a counter that the server updates after the client has
// its last packet, for up to two seconds.
func eventually(get func() uint64, want uint64) uint64 {
	deadline := time.Now().Add(2 * time.Second)
	for get() != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return get()
}
