package e2e

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/leases"
)

// The DHCP lab: a server namespace and a client namespace joined by a veth
// pair. 10.99.0.0/24 is attached (the server is 10.99.0.1); 10.98.0.0/24 is
// a relayed network whose relay, 10.98.0.2, lives in the client namespace.
const (
	labServerIP = "10.99.0.1"
	labRelayIP  = "10.98.0.2"
)

var (
	helperMode  = flag.String("dhcp-helper", "", "internal: run as the DHCP test client (relay)")
	helperN     = flag.Int("dhcp-helper-n", 100, "internal: clients")
	helperFirst = flag.Int("dhcp-helper-first", 0, "internal: number of the first client")
	helperFor   = flag.Duration("dhcp-helper-for", 10*time.Second, "internal: run at most this long")
	// The cluster lab (testdata/lab/cluster.sh) runs the helper with its
	// own addresses: requests broadcast to every instance on the bridge.
	helperServer = flag.String("dhcp-helper-server", labServerIP, "internal: where the relay sends requests")
	helperRelay  = flag.String("dhcp-helper-relay", labRelayIP, "internal: the relay's address (giaddr)")
	helperDev    = flag.String("dhcp-helper-dev", "rbd-vc", "internal: the relay's interface")
)

// TestMain lets the test binary run as the relay client inside the client
// namespace (ip netns exec BINARY -dhcp-helper=...).
func TestMain(m *testing.M) {
	flag.Parse()
	if *helperMode != "" {
		os.Exit(runHelper(*helperMode))
	}
	os.Exit(m.Run())
}

// dhcpLab is one pair of namespaces and a rackboot serving in the first.
type dhcpLab struct {
	t        *testing.T
	srvNS    string
	cliNS    string
	dataDir  string
	config   string
	bin      string
	server   *exec.Cmd
	serveLog *syncBuffer
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newDHCPLab(t *testing.T) *dhcpLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("DHCP namespace tests need root (network namespaces); run `sudo make e2e`")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("DHCP namespace tests need ip (apt-get install iproute2)")
	}
	root := repoRoot(t)
	bin := os.Getenv("RACKBOOT_BIN")
	if bin == "" {
		bin = filepath.Join(root, "bin", "rackboot")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s is not built: run `make build`", bin)
	}
	id := fmt.Sprintf("%d-%d", os.Getpid()%100000, time.Now().UnixNano()%100000)
	l := &dhcpLab{t: t, srvNS: "rbd-s-" + id, cliNS: "rbd-c-" + id, dataDir: t.TempDir(), bin: bin}
	t.Cleanup(l.close)
	vs, vc := "rbd-vs", "rbd-vc"
	l.ip("netns", "add", l.srvNS)
	l.ip("netns", "add", l.cliNS)
	l.ip("-n", l.srvNS, "link", "add", vs, "type", "veth", "peer", "name", vc, "netns", l.cliNS)
	l.ip("-n", l.srvNS, "addr", "add", labServerIP+"/24", "dev", vs)
	l.ip("-n", l.srvNS, "link", "set", vs, "up")
	l.ip("-n", l.srvNS, "link", "set", "lo", "up")
	l.ip("-n", l.srvNS, "route", "add", "10.98.0.0/24", "dev", vs) // the relay answers ARP for it
	l.ip("-n", l.cliNS, "link", "set", vc, "up")
	l.ip("-n", l.cliNS, "link", "set", "lo", "up")
	l.config = filepath.Join(l.dataDir, "rackboot.yaml")
	cfg := fmt.Sprintf(`server:
  interface: %s
  address: %s
  data_dir: %s
  http_port: 18081
  tftp_port: 16970
dhcp:
  mode: full
  probe_timeout: 100ms
  subnets:
    - cidr: 10.99.0.0/24
      range: 10.99.0.100-10.99.0.200
      router: 10.99.0.1
      lease_time: 1h
    - cidr: 10.98.0.0/24
      ranges: [10.98.0.10-10.98.0.99, 10.98.0.150-10.98.0.250]
      router: 10.98.0.2
      lease_time: 1h
profiles:
  local: {local: true}
default_profile: local
`, vs, labServerIP, filepath.Join(l.dataDir, "data"))
	if err := os.WriteFile(l.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *dhcpLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (l *dhcpLab) close() {
	l.stop(syscall.SIGTERM)
	exec.Command("ip", "netns", "del", l.cliNS).Run()
	exec.Command("ip", "netns", "del", l.srvNS).Run()
}

// start runs rackboot in the server namespace and waits until it answers.
func (l *dhcpLab) start() {
	l.t.Helper()
	l.serveLog = &syncBuffer{}
	l.server = exec.Command("ip", "netns", "exec", l.srvNS, l.bin, "serve", "--config", l.config, "--log-level", "info")
	l.server.Stdout, l.server.Stderr = l.serveLog, l.serveLog
	if err := l.server.Start(); err != nil {
		l.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(l.serveLog.String(), "rackboot starting") {
		if time.Now().After(deadline) {
			l.t.Fatalf("rackboot did not start:\n%s", l.serveLog)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
}

// stop ends the server with sig (SIGKILL for a crash) and waits for it.
func (l *dhcpLab) stop(sig syscall.Signal) {
	if l.server == nil || l.server.Process == nil {
		return
	}
	l.server.Process.Signal(sig)
	l.server.Wait()
	l.server = nil
}

// helper runs the relay client in the client namespace; it prints one
// "ACK <mac> <ip>" line per ACK as it arrives and calls onLine for each.
func (l *dhcpLab) helper(ctx context.Context, mode string, n, first int, d time.Duration, onLine func(string)) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", l.cliNS, self,
		"-dhcp-helper="+mode, fmt.Sprint("-dhcp-helper-n=", n), fmt.Sprint("-dhcp-helper-first=", first),
		"-dhcp-helper-for="+d.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		onLine(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%v: %s", err, stderr.String())
	}
	return nil
}

// helperMAC is the MAC of test client i.
func helperMAC(i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x42, 0, byte(i >> 16), byte(i >> 8), byte(i)}
}

// runHelper is the relay client: it binds the relay's port 67 and runs
// DISCOVER/REQUEST exchanges for clients first..first+n-1, up to 64 at a
// time, printing each ACK. Mode "dora" runs whole exchanges; "reboot"
// sends INIT-REBOOT REQUESTs for the address given on stdin lines
// "<mac> <ip>".
func runHelper(mode string) int {
	ip := exec.Command("ip", "addr", "add", *helperRelay+"/24", "dev", *helperDev)
	ip.Run() // already there on a second run
	exec.Command("ip", "route", "add", "10.99.0.0/24", "dev", *helperDev).Run()
	time.Sleep(100 * time.Millisecond)
	conn, err := net.ListenPacket("udp4", *helperRelay+":67")
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	defer conn.Close()
	srv := &net.UDPAddr{IP: net.ParseIP(*helperServer), Port: 67}
	deadline := time.Now().Add(*helperFor)
	relayInfo := []byte{1, 4, 'r', 'b', 'd', '0'}
	relay := []dhcpv4.Modifier{dhcpv4.WithGatewayIP(net.ParseIP(*helperRelay)), func(d *dhcpv4.DHCPv4) { d.HopCount = 1 },
		dhcpv4.WithGeneric(dhcpv4.OptionRelayAgentInformation, relayInfo)}
	var outMu sync.Mutex
	print := func(format string, a ...any) {
		outMu.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", a...)
		outMu.Unlock()
	}
	// replies by transaction ID
	var mu sync.Mutex
	waiting := map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4{}
	go func() {
		b := make([]byte, 1500)
		for {
			n, _, err := conn.ReadFrom(b)
			if err != nil {
				return
			}
			r, err := dhcpv4.FromBytes(b[:n])
			if err != nil {
				continue
			}
			if !bytes.Equal(r.Options.Get(dhcpv4.OptionRelayAgentInformation), relayInfo) {
				print("ERROR option 82 not echoed in %s to %s", r.MessageType(), r.ClientHWAddr)
			}
			mu.Lock()
			ch := waiting[r.TransactionID]
			mu.Unlock()
			if ch != nil {
				select {
				case ch <- r:
				default:
				}
			}
		}
	}()
	ask := func(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
		ch := make(chan *dhcpv4.DHCPv4, 1)
		mu.Lock()
		waiting[req.TransactionID] = ch
		mu.Unlock()
		defer func() { mu.Lock(); delete(waiting, req.TransactionID); mu.Unlock() }()
		for try := 0; try < 3 && time.Now().Before(deadline); try++ {
			conn.WriteTo(req.ToBytes(), srv)
			select {
			case r := <-ch:
				return r
			case <-time.After(time.Second):
			}
		}
		return nil
	}
	xid := func(i, step int) dhcpv4.TransactionID {
		return dhcpv4.TransactionID{byte(step), byte(i >> 16), byte(i >> 8), byte(i)}
	}
	want := map[string]string{}
	if mode == "reboot" {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 {
				want[f[0]] = f[1]
			}
		}
	}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := *helperFirst; i < *helperFirst+*helperN && time.Now().Before(deadline); i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			hw := helperMAC(i)
			if mode == "reboot" {
				ip := want[hw.String()]
				if ip == "" {
					return
				}
				req, _ := dhcpv4.NewDiscovery(hw, append(relay, dhcpv4.WithTransactionID(xid(i, 3)),
					dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
					dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.ParseIP(ip))))...)
				if r := ask(req); r != nil {
					print("%s %s %s", r.MessageType(), hw, r.YourIPAddr)
				}
				return
			}
			d, _ := dhcpv4.NewDiscovery(hw, append(relay, dhcpv4.WithTransactionID(xid(i, 1)))...)
			offer := ask(d)
			if offer == nil || offer.MessageType() != dhcpv4.MessageTypeOffer {
				return
			}
			req, _ := dhcpv4.NewDiscovery(hw, append(relay, dhcpv4.WithTransactionID(xid(i, 2)),
				dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
				dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)),
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())))...)
			if ack := ask(req); ack != nil {
				print("%s %s %s", ack.MessageType(), hw, ack.YourIPAddr)
			}
		}(i)
	}
	wg.Wait()
	return 0
}

// parseACKs reads "ACK <mac> <ip>" lines.
func parseACKs(t *testing.T, lines []string) map[string]netip.Addr {
	t.Helper()
	acks := map[string]netip.Addr{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "ERROR" {
			t.Error(l)
		}
		if len(f) == 3 && f[0] == "ACK" {
			acks[f[1]] = netip.MustParseAddr(f[2])
		}
	}
	return acks
}

// TestDHCPRelayedClient: a relayed client gets an address of the relay's
// subnet, with option 82 echoed, and the lease is listed.
func TestDHCPRelayedClient(t *testing.T) {
	l := newDHCPLab(t)
	l.start()
	var lines []string
	if err := l.helper(context.Background(), "dora", 5, 0, 15*time.Second, func(s string) { lines = append(lines, s) }); err != nil {
		t.Fatal(err)
	}
	acks := parseACKs(t, lines)
	if len(acks) != 5 {
		t.Fatalf("%d ACKs for 5 relayed clients: %v\n%s", len(acks), lines, l.serveLog)
	}
	relayed := netip.MustParsePrefix("10.98.0.0/24")
	for mac, ip := range acks {
		if !relayed.Contains(ip) {
			t.Errorf("relayed client %s got %s, outside the relay's subnet %s", mac, ip, relayed)
		}
	}
	out, err := exec.Command(l.bin, "leases", "--data-dir", filepath.Join(l.dataDir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("rackboot leases while serving: %v\n%s", err, out)
	}
	for mac, ip := range acks {
		if !strings.Contains(string(out), mac) || !strings.Contains(string(out), ip.String()+" ") {
			t.Errorf("rackboot leases does not list %s %s:\n%s", mac, ip, out)
		}
	}
}

// TestDHCPDurableUnderKill: kill -9 the server while clients are getting
// leases; every lease a client got an ACK for is in the store, and after a
// restart each client keeps its address.
func TestDHCPDurableUnderKill(t *testing.T) {
	l := newDHCPLab(t)
	l.start()
	var mu sync.Mutex
	var lines []string
	killed := make(chan struct{})
	var once sync.Once
	go func() {
		time.Sleep(20 * time.Second)
		once.Do(func() { close(killed) })
	}()
	done := make(chan error, 1)
	go func() {
		done <- l.helper(context.Background(), "dora", 170, 0, 8*time.Second, func(s string) {
			mu.Lock()
			lines = append(lines, s)
			n := len(lines)
			mu.Unlock()
			if n == 60 {
				once.Do(func() {
					l.server.Process.Signal(syscall.SIGKILL) // mid-load
					close(killed)
				})
			}
		})
	}()
	<-killed
	l.stop(syscall.SIGKILL)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	acks := parseACKs(t, lines)
	mu.Unlock()
	if len(acks) < 60 {
		t.Fatalf("only %d ACKs before the kill; the test did not load the server:\n%s", len(acks), l.serveLog)
	}
	stored, err := leases.Read(filepath.Join(l.dataDir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]leases.Lease{}
	for _, s := range stored {
		have[s.MAC.String()] = s
	}
	for mac, ip := range acks {
		if s, ok := have[mac]; !ok || s.IP != ip || s.State != leases.Bound {
			t.Errorf("ACKed %s %s, store after kill -9 has %+v", mac, ip, s)
		}
	}
	t.Logf("%d ACKs before kill -9, all %d found bound in the store (%d records)", len(acks), len(acks), len(stored))

	// Restart: the same clients, rebooting, keep their addresses.
	l.start()
	var input strings.Builder
	for mac, ip := range acks {
		fmt.Fprintf(&input, "%s %s\n", mac, ip)
	}
	var again []string
	self, _ := os.Executable()
	cmd := exec.Command("ip", "netns", "exec", l.cliNS, self, "-dhcp-helper=reboot", "-dhcp-helper-n=170", "-dhcp-helper-for=10s")
	cmd.Stdin = strings.NewReader(input.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reboot helper: %v", err)
	}
	again = strings.Split(strings.TrimSpace(string(out)), "\n")
	reacks := parseACKs(t, again)
	if len(reacks) != len(acks) {
		t.Errorf("after restart %d of %d clients got their ACK back:\n%s", len(reacks), len(acks), out)
	}
	for mac, ip := range acks {
		if got := reacks[mac]; got != ip {
			t.Errorf("after restart %s got %v, want its %s", mac, got, ip)
		}
	}
}

// TestDHCPUdhcpc: busybox udhcpc on the attached segment gets an address,
// renews it and releases it; the store follows.
func TestDHCPUdhcpc(t *testing.T) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs busybox (apt-get install busybox-static)")
	}
	l := newDHCPLab(t)
	l.start()
	events := filepath.Join(l.dataDir, "events")
	script := filepath.Join(l.dataDir, "udhcpc.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
case $1 in
bound|renew) `+busybox+` ip addr replace $ip/24 dev $interface ;;
deconfig) `+busybox+` ip addr flush dev $interface ;;
esac
echo "$1 $ip $lease" >> `+events+"\n"), 0o755)
	cmd := exec.Command("ip", "netns", "exec", l.cliNS, busybox, "udhcpc", "-i", "rbd-vc", "-f", "-R", "-t", "5", "-T", "1", "-s", script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitFor := func(word string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			b, _ := os.ReadFile(events)
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, word+" ") {
					return line
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		b, _ := os.ReadFile(events)
		t.Fatalf("udhcpc never reported %q; events:\n%s\nudhcpc:\n%s\nrackboot:\n%s", word, b, out.String(), l.serveLog)
		return ""
	}
	bound := strings.Fields(waitFor("bound"))
	if len(bound) < 2 || !netip.MustParsePrefix("10.99.0.0/24").Contains(netip.MustParseAddr(bound[1])) {
		t.Fatalf("udhcpc bound %v", bound)
	}
	ip := netip.MustParseAddr(bound[1])
	cmd.Process.Signal(syscall.SIGUSR1) // renew
	waitFor("renew")
	cmd.Process.Signal(syscall.SIGUSR2) // release
	waitFor("deconfig")
	deadline := time.Now().Add(5 * time.Second)
	for {
		ls, err := leases.Read(filepath.Join(l.dataDir, "data"))
		if err != nil {
			t.Fatal(err)
		}
		var state leases.State
		for _, x := range ls {
			if x.IP == ip {
				state = x.State
			}
		}
		if state == leases.Released {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after udhcpc's release the store has %s for %s (want released)\nudhcpc:\n%s\nrackboot:\n%s", state, ip, out.String(), l.serveLog)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDHCPConflictProbe: an address some host already uses answers the
// server's ARP probe; the client is offered another one and the server
// counts the conflict.
func TestDHCPConflictProbe(t *testing.T) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs busybox (apt-get install busybox-static)")
	}
	l := newDHCPLab(t)
	l.ip("-n", l.cliNS, "addr", "add", "10.99.0.100/32", "dev", "rbd-vc") // the squatter: first of the range
	l.start()
	events := filepath.Join(l.dataDir, "events")
	script := filepath.Join(l.dataDir, "udhcpc.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 $ip\" >> "+events+"\n"), 0o755)
	out, err := exec.Command("ip", "netns", "exec", l.cliNS, busybox, "udhcpc", "-i", "rbd-vc", "-f", "-q", "-n",
		"-t", "5", "-T", "1", "-s", script).CombinedOutput()
	if err != nil {
		t.Fatalf("udhcpc: %v\n%s\nrackboot:\n%s", err, out, l.serveLog)
	}
	b, _ := os.ReadFile(events)
	var got string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "bound" {
			got = f[1]
		}
	}
	if got == "" || got == "10.99.0.100" {
		t.Fatalf("udhcpc bound %q; want an address other than the squatted 10.99.0.100\n%s\nrackboot:\n%s", got, b, l.serveLog)
	}
	if !strings.Contains(l.serveLog.String(), "address answered a probe") {
		t.Errorf("rackboot logged no conflict:\n%s", l.serveLog)
	}
}
