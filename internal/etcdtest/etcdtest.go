// Package etcdtest starts real etcd members for tests: Debian's etcd-server
// binary, one process per member, data in the test's own temporary folder,
// client and peer ports on 127.0.0.1. A test that calls Start skips, saying
// why, when the binary is missing.
package etcdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Member is one running etcd process.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	dataDir   string
	logFile   string
	cmd       *exec.Cmd
	args      []string
}

// Cluster is a set of members started together.
type Cluster struct {
	Members []*Member
	t       testing.TB
	bin     string
	certs   *Certs
}

// Binary is where the tests look for etcd: $RACKBOOT_ETCD, else etcd on
// PATH.
func Binary() (string, error) {
	if b := os.Getenv("RACKBOOT_ETCD"); b != "" {
		return b, nil
	}
	return exec.LookPath("etcd")
}

// Start runs an n-member cluster and waits until it answers; the members
// are killed and their folders removed when the test ends.
func Start(t testing.TB, n int) *Cluster { t.Helper(); return StartTLS(t, n, nil) }

// StartTLS is Start with client connections over TLS that require a
// client certificate signed by certs.CA (nil: plain http).
func StartTLS(t testing.TB, n int, certs *Certs) *Cluster {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Skip("etcd not installed (apt-get install etcd-server; .ci/run does): ", err)
	}
	c := &Cluster{t: t, bin: bin, certs: certs}
	scheme := "http://"
	if certs != nil {
		scheme = "https://"
	}
	dir := t.TempDir()
	var initial []string
	for i := range n {
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			ClientURL: scheme + freePort(t),
			PeerURL:   "http://" + freePort(t),
		}
		m.dataDir = filepath.Join(dir, m.Name)
		m.logFile = filepath.Join(dir, m.Name+".log")
		initial = append(initial, m.Name+"="+m.PeerURL)
		c.Members = append(c.Members, m)
	}
	for _, m := range c.Members {
		m.args = []string{
			"--name", m.Name, "--data-dir", m.dataDir,
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new", "--initial-cluster-token", "rackboot-test",
			"--heartbeat-interval", "50", "--election-timeout", "500",
			"--log-outputs", m.logFile, "--logger", "zap",
		}
		if certs != nil {
			m.args = append(m.args, "--cert-file", certs.ServerCert, "--key-file", certs.ServerKey,
				"--trusted-ca-file", certs.CA, "--client-cert-auth")
		}
		c.start(m)
	}
	t.Cleanup(c.Stop)
	c.WaitHealthy(30 * time.Second)
	return c
}

func (c *Cluster) start(m *Member) {
	c.t.Helper()
	m.cmd = exec.Command(c.bin, m.args...)
	m.cmd.Env = append(os.Environ(), "ETCD_UNSUPPORTED_ARCH=")
	if err := m.cmd.Start(); err != nil {
		c.t.Fatalf("starting etcd member %s: %v", m.Name, err)
	}
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.ClientURL)
	}
	return out
}

// URL is the rackboot store URL for the cluster: etcd://host:port,…/prefix.
func (c *Cluster) URL(prefix string) string {
	var hosts []string
	for _, m := range c.Members {
		hosts = append(hosts, hostOf(m.ClientURL))
	}
	return "etcd://" + strings.Join(hosts, ",") + prefix
}

// WaitHealthy waits until every running member answers /health.
func (c *Cluster) WaitHealthy(d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for _, m := range c.Members {
		if m.cmd == nil {
			continue
		}
		for !c.healthy(m.ClientURL) {
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(m.logFile)
				c.t.Fatalf("etcd member %s not healthy after %v; its log:\n%s", m.Name, d, tail(log, 3000))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Signal sends sig to member i (SIGSTOP freezes it, SIGCONT resumes it).
func (c *Cluster) Signal(i int, sig syscall.Signal) {
	c.t.Helper()
	p := c.Members[i].cmd.Process
	if err := p.Signal(sig); err != nil {
		c.t.Fatalf("signalling etcd member %d: %v", i, err)
	}
	if sig == syscall.SIGSTOP {
		waitStopped(c.t, p.Pid)
	}
}

// waitStopped waits until every thread of pid is stopped (state T): a
// stop signal is delivered to busy threads a little later.
func waitStopped(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(tasks) > 0
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			// the state follows the command name in parentheses
			if k := strings.LastIndexByte(string(b), ')'); err != nil || k < 0 || k+2 >= len(b) || b[k+2] != 'T' {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("etcd process %d not stopped 5 s after SIGSTOP", pid)
}

// Kill ends member i with SIGKILL; Restart starts it again on its data.
func (c *Cluster) Kill(i int) {
	m := c.Members[i]
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Kill()
	m.cmd.Wait()
	m.cmd = nil
}

// Restart starts a killed member again with the same data folder.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	m := c.Members[i]
	args := make([]string, len(m.args))
	copy(args, m.args)
	for j := range args {
		if args[j] == "new" {
			args[j] = "existing"
		}
	}
	m.args = args
	c.start(m)
}

// Stop kills every member (continuing a stopped one first).
func (c *Cluster) Stop() {
	for i, m := range c.Members {
		if m.cmd != nil {
			m.cmd.Process.Signal(syscall.SIGCONT)
		}
		c.Kill(i)
	}
}

func hostOf(url string) string {
	return strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
}

func (c *Cluster) healthy(url string) bool {
	var conn net.Conn
	var err error
	d := &net.Dialer{Timeout: 200 * time.Millisecond}
	if c.certs != nil {
		conn, err = c.tlsDial(d, hostOf(url))
	} else {
		conn, err = d.Dial("tcp", hostOf(url))
	}
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(conn, "GET /health HTTP/1.0\r\nHost: x\r\n\r\n")
	buf := make([]byte, 512)
	n, _ := conn.Read(buf)
	for n < len(buf) {
		k, err := conn.Read(buf[n:])
		n += k
		if err != nil {
			break
		}
	}
	return strings.Contains(string(buf[:n]), `"health":"true"`)
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
