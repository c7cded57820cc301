package e2e

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rackboot/rackboot/tftp"
)

// TestShutdownMidTransfer starts `rackboot serve` (dhcp.mode: off, on the
// loopback interface, no root needed), starts a slow TFTP transfer and a
// slow HTTP download, sends SIGTERM in the middle of both, and checks that
// both complete byte for byte and the process exits 0 before
// server.shutdown_grace ends. A second run with a stalled download checks
// that the grace is a bound: the process still exits 0, on time.
func TestShutdownMidTransfer(t *testing.T) {
	bin := requireBinary(t)
	t.Run("finish", func(t *testing.T) {
		srv := startLoopbackServer(t, bin, "10s")
		tftpDone, httpDone := make(chan error, 1), make(chan error, 1)
		tftpStarted, httpStarted := make(chan struct{}), make(chan struct{})
		go func() { tftpDone <- slowTFTP(srv, tftpStarted) }()
		go func() { httpDone <- slowHTTP(srv, httpStarted, 2<<20) }()
		<-tftpStarted
		<-httpStarted
		sent := time.Now()
		must(t, srv.cmd.Process.Signal(syscall.SIGTERM))
		if err := <-tftpDone; err != nil {
			t.Errorf("TFTP transfer across SIGTERM: %v", err)
		}
		if err := <-httpDone; err != nil {
			t.Errorf("HTTP download across SIGTERM: %v", err)
		}
		code, _ := srv.wait(t, 15*time.Second)
		took := time.Since(sent)
		t.Logf("transfers finished, exit %d %s after SIGTERM", code, took.Round(time.Millisecond))
		if code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0\n%s", code, srv.log.String())
		}
		if took > 10*time.Second {
			t.Errorf("exit %s after SIGTERM, beyond the 10 s grace", took)
		}
		if took < time.Second {
			t.Errorf("the process exited %s after SIGTERM: the transfers were not slow enough to be in flight", took)
		}
		// A new request after SIGTERM is refused: the port is closed.
		if _, err := net.DialTimeout("tcp", srv.http, time.Second); err == nil {
			t.Error("HTTP still accepts connections after the process exited")
		}
	})
	t.Run("grace", func(t *testing.T) {
		srv := startLoopbackServer(t, bin, "1s")
		resp, err := http.Get("http://" + srv.http + "/assets/big")
		must(t, err)
		defer resp.Body.Close()
		io.ReadFull(resp.Body, make([]byte, 4096)) // then stall
		must(t, srv.cmd.Process.Signal(syscall.SIGTERM))
		code, took := srv.wait(t, 10*time.Second)
		t.Logf("stalled download: exit %d %s after SIGTERM", code, took)
		if code != 0 || took < 900*time.Millisecond || took > 4*time.Second {
			t.Errorf("exit %d after %s, want 0 after about the 1 s grace\n%s", code, took, srv.log.String())
		}
		if !strings.Contains(srv.log.String(), "shutdown grace ran out") {
			t.Errorf("the log does not say the grace ran out:\n%s", srv.log.String())
		}
	})
}

// loopbackServer is a rackboot serve process on 127.0.0.1.
type loopbackServer struct {
	cmd        *exec.Cmd
	log        *bytes.Buffer
	http, tftp string
	big        []byte
	exited     chan struct{}
}

func startLoopbackServer(t *testing.T, bin, grace string) *loopbackServer {
	t.Helper()
	dir := t.TempDir()
	big := make([]byte, 8<<20)
	rand.Read(big)
	must(t, os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "assets", "big"), big, 0o644))
	file, httpAddr, tftpAddr := writeLoopbackConfig(t, dir, "  shutdown_grace: "+grace+"\n", "")
	s := serveLoopback(t, bin, file, httpAddr, nil)
	s.tftp, s.big = tftpAddr, big
	return s
}

// writeLoopbackConfig writes dir/rackboot.yaml for a server on 127.0.0.1
// (free ports, dhcp.mode: off), with more server keys and more top-level
// YAML; it returns the file and the HTTP and TFTP addresses.
func writeLoopbackConfig(t *testing.T, dir, server, more string) (file, httpAddr, tftpAddr string) {
	t.Helper()
	httpPort, tftpPort := freePort(t, "tcp"), freePort(t, "udp")
	inv := fmt.Sprintf(`server:
  interface: lo
  address: 127.0.0.1
  http_port: %d
  tftp_port: %d
  assets: %s
  data_dir: %s
%sdhcp: {mode: off}
profiles:
  disk: {local: true}
%s`, httpPort, tftpPort, filepath.Join(dir, "assets"), filepath.Join(dir, "data"), server, more)
	file = filepath.Join(dir, "rackboot.yaml")
	must(t, os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	must(t, os.WriteFile(file, []byte(inv), 0o644))
	return file, fmt.Sprintf("127.0.0.1:%d", httpPort), fmt.Sprintf("127.0.0.1:%d", tftpPort)
}

// serveLoopback starts `rackboot serve --config file` with env added and
// waits until HTTP answers at httpAddr.
func serveLoopback(t *testing.T, bin, file, httpAddr string, env []string) *loopbackServer {
	t.Helper()
	s := &loopbackServer{log: &bytes.Buffer{}, http: httpAddr, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--config", file)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	must(t, s.cmd.Start())
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.http); err == nil {
			c.Close()
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("rackboot exited during start-up\n%s", s.log.String())
		default:
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("rackboot did not listen on %s within 15 s\n%s", s.http, s.log.String())
		}
	}
}

// wait returns the exit code and how long after now the process took.
func (s *loopbackServer) wait(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-s.exited:
	case <-time.After(limit):
		t.Fatalf("rackboot still running %s after SIGTERM\n%s", limit, s.log.String())
	}
	return s.cmd.ProcessState.ExitCode(), time.Since(start)
}

// slowTFTP fetches big over TFTP, the first 1,500 blocks of 1,468 bytes
// at about 2 ms each (some 3 s), the rest at full speed, and checks every
// byte.
func slowTFTP(s *loopbackServer, started chan struct{}) error {
	n := 0
	var got bytes.Buffer
	_, err := tftp.Fetch(s.tftp, "big", tftp.ClientOptions{BlockSize: 1468, Drop: func(uint16) bool {
		n++
		if n == 1 {
			close(started)
		}
		if n < 1500 {
			time.Sleep(2 * time.Millisecond)
		}
		return false
	}}, &got)
	if err != nil {
		return err
	}
	if !bytes.Equal(got.Bytes(), s.big) {
		return fmt.Errorf("got %d bytes, want the %d sent, unchanged", got.Len(), len(s.big))
	}
	return nil
}

// slowHTTP downloads /assets/big at about rate bytes per second and checks
// every byte.
func slowHTTP(s *loopbackServer, started chan struct{}, rate int) error {
	resp, err := http.Get("http://" + s.http + "/assets/big")
	if err != nil {
		close(started)
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		close(started)
		return fmt.Errorf("status %s", resp.Status)
	}
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	for first := true; ; first = false {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if first {
			close(started)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", got.Len(), err)
		}
		time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
	}
	if !bytes.Equal(got.Bytes(), s.big) {
		return fmt.Errorf("got %d bytes, want the %d sent, unchanged", got.Len(), len(s.big))
	}
	return nil
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		must(t, err)
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// requireBinary returns the rackboot binary, skipping when it is not built.
func requireBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("RACKBOOT_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), "bin", "rackboot")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s is not built: run `make build` (or `make e2e`)", bin)
	}
	return bin
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
