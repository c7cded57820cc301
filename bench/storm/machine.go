package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/tftp"
)

// Steps of one machine's boot, in order; failures are counted by step.
const (
	stepDHCP     = "dhcp"      // firmware PXE: DISCOVER/OFFER/REQUEST/ACK
	stepTFTP     = "tftp"      // the boot program the ACK named
	stepDHCPiPXE = "dhcp-ipxe" // iPXE asks again, user class "iPXE"
	stepScript   = "script"    // the HTTP boot script (and what it chains to)
	stepKernel   = "kernel"
	stepInitrd   = "initrd"
)

var allSteps = []string{stepDHCP, stepTFTP, stepDHCPiPXE, stepScript, stepKernel, stepInitrd}

// Back-off of DHCP resends: PXE firmware waits 4, 8, 16 and 32 s (PXE 2.1
// section 2.2.1); iPXE starts at 1 s and doubles.
var (
	pxeWaits  = []time.Duration{4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second}
	ipxeWaits = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second}
)

// machine is one simulated computer.
type machine struct {
	mac  net.HardwareAddr
	uefi bool
	uuid [16]byte
}

// env is what every machine shares.
type env struct {
	dhcp    *dhcpClient
	steps   map[string]bool // the steps to run
	blksize int
	// bootFile names the boot program expected per firmware.
	biosFile, uefiFile string
	timeout            time.Duration
}

// result is one machine's outcome.
type result struct {
	took     time.Duration
	failStep string // "" when it completed
	err      error
	bytes    int64
}

func newMachine(i int, uefi bool) *machine {
	m := &machine{mac: net.HardwareAddr{0x02, 0x5b, 0x13, byte(i >> 16), byte(i >> 8), byte(i)}, uefi: uefi}
	_, _ = rand.Read(m.uuid[:])
	return m
}

func (m *machine) arch() uint16 {
	if m.uefi {
		return 7
	}
	return 0
}

// boot plays the machine's whole sequence and says where it stopped.
func (m *machine) boot(ctx context.Context, e *env) result {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	start := time.Now()
	var res result
	fail := func(step string, err error) result {
		res.took, res.failStep, res.err = time.Since(start), step, err
		return res
	}
	var ack *dhcpv4.DHCPv4
	var err error
	if e.steps[stepDHCP] {
		if ack, err = m.dora(ctx, e.dhcp, false); err != nil {
			return fail(stepDHCP, err)
		}
	}
	if e.steps[stepTFTP] && ack != nil {
		n, err := m.fetchBootProgram(ack, e)
		res.bytes += n
		if err != nil {
			return fail(stepTFTP, err)
		}
	}
	if e.steps[stepDHCPiPXE] {
		if ack, err = m.dora(ctx, e.dhcp, true); err != nil {
			return fail(stepDHCPiPXE, err)
		}
	}
	if e.steps[stepScript] && ack != nil {
		n, step, err := m.httpBoot(ctx, ack, e)
		res.bytes += n
		if err != nil {
			return fail(step, err)
		}
	}
	res.took = time.Since(start)
	return res
}

// maxNAKs is how often a client starts over after a NAK (RFC 2131
// section 3.1 step 5: back to INIT) before the step counts as failed.
const maxNAKs = 3

// dora runs DISCOVER/OFFER/REQUEST/ACK as PXE firmware (ipxe false) or as
// iPXE (user class "iPXE", option 175), starting over after a NAK.
func (m *machine) dora(ctx context.Context, c *dhcpClient, ipxe bool) (*dhcpv4.DHCPv4, error) {
	var err error
	for range maxNAKs + 1 {
		var ack *dhcpv4.DHCPv4
		if ack, err = m.doraOnce(ctx, c, ipxe); err == nil || !errors.Is(err, errNAK) {
			return ack, err
		}
	}
	return nil, fmt.Errorf("%w, %d times", err, maxNAKs+1)
}

var errNAK = errors.New("NAK")

func (m *machine) doraOnce(ctx context.Context, c *dhcpClient, ipxe bool) (*dhcpv4.DHCPv4, error) {
	waits := pxeWaits
	if ipxe {
		waits = ipxeWaits
	}
	mods := m.pxeOptions(ipxe)
	disc, err := dhcpv4.NewDiscovery(m.mac, mods...)
	if err != nil {
		return nil, err
	}
	offer, err := c.exchange(ctx, disc, waits, dhcpv4.MessageTypeOffer)
	if err != nil {
		return nil, fmt.Errorf("DISCOVER: %w", err)
	}
	req, err := dhcpv4.NewRequestFromOffer(offer, mods...)
	if err != nil {
		return nil, err
	}
	ack, err := c.exchange(ctx, req, waits, dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
	if err != nil {
		return nil, fmt.Errorf("REQUEST: %w", err)
	}
	if ack.MessageType() == dhcpv4.MessageTypeNak {
		return nil, fmt.Errorf("REQUEST for %s: %w %q", offer.YourIPAddr, errNAK, ack.Message())
	}
	return ack, nil
}

// requested is a PXE ROM's parameter request list (option 55).
var requested = func() []dhcpv4.OptionCode {
	var out []dhcpv4.OptionCode
	for _, c := range []uint8{1, 3, 6, 12, 15, 17, 26, 28, 40, 41, 42, 43, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135, 175} {
		out = append(out, dhcpv4.GenericOptionCode(c))
	}
	return out
}()

// pxeOptions are the options a PXE ROM sends (PXE 2.1, RFC 4578), plus
// iPXE's user class and feature option when it is iPXE asking.
func (m *machine) pxeOptions(ipxe bool) []dhcpv4.Modifier {
	undi := "002001"
	if m.uefi {
		undi = "003016"
	}
	mods := []dhcpv4.Modifier{
		dhcpv4.WithBroadcast(true),
		dhcpv4.WithRequestedOptions(requested...),
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier(fmt.Sprintf("PXEClient:Arch:%05d:UNDI:%s", m.arch(), undi))),
		dhcpv4.WithGeneric(dhcpv4.OptionClientSystemArchitectureType, []byte{byte(m.arch() >> 8), byte(m.arch())}),
		dhcpv4.WithGeneric(dhcpv4.OptionClientNetworkInterfaceIdentifier, []byte{1, 2, 1}),
		dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, append([]byte{0}, m.uuid[:]...)),
		dhcpv4.WithGeneric(dhcpv4.OptionMaximumDHCPMessageSize, []byte{0x05, 0xc0}),
	}
	if ipxe {
		mods = append(mods,
			dhcpv4.WithGeneric(dhcpv4.OptionUserClassInformation, []byte("iPXE")),
			dhcpv4.WithGeneric(dhcpv4.GenericOptionCode(175), []byte{0x13, 0x01, 0x01, 0x17, 0x01, 0x01, 0xeb, 0x03, 0x01, 0x00, 0x00}))
	}
	return mods
}

// bootFile is the reply's boot file: option 67, else the file field.
func bootFile(ack *dhcpv4.DHCPv4) string {
	if f := ack.BootFileNameOption(); f != "" {
		return f
	}
	return ack.BootFileName
}

// fetchBootProgram checks that the ACK names the boot program of this
// firmware and fetches it over TFTP, lock-step, from next-server.
func (m *machine) fetchBootProgram(ack *dhcpv4.DHCPv4, e *env) (int64, error) {
	want := e.biosFile
	if m.uefi {
		want = e.uefiFile
	}
	name := bootFile(ack)
	if name != want {
		return 0, fmt.Errorf("ACK names boot file %q, want %q", name, want)
	}
	server := ack.ServerIPAddr
	if server.IsUnspecified() {
		return 0, errors.New("ACK has no next-server (siaddr)")
	}
	r, err := tftp.Fetch(net.JoinHostPort(server.String(), "69"), name,
		tftp.ClientOptions{BlockSize: e.blksize, TSize: true, Wait: time.Second}, io.Discard)
	if err != nil {
		return r.Bytes, fmt.Errorf("tftp %s from %s: %w", name, server, err)
	}
	if ts := r.OACK["tsize"]; ts != "" && ts != fmt.Sprint(r.Bytes) {
		return r.Bytes, fmt.Errorf("tftp %s: got %d bytes, tsize said %s", name, r.Bytes, ts)
	}
	return r.Bytes, nil
}

// httpBoot fetches the script the iPXE ACK names, follows its chain, then
// downloads its kernel and initrds as iPXE would.
func (m *machine) httpBoot(ctx context.Context, ack *dhcpv4.DHCPv4, e *env) (int64, string, error) {
	url := bootFile(ack)
	if !strings.HasPrefix(url, "http://") {
		return 0, stepDHCPiPXE, fmt.Errorf("iPXE ACK names %q, not an http URL", url)
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}}
	defer hc.CloseIdleConnections()
	var total int64
	var sc script
	for hop := 0; ; hop++ {
		body, err := getSmall(ctx, hc, url)
		total += int64(len(body))
		if err != nil {
			return total, stepScript, err
		}
		sc = parseScript(body, m.vars())
		if sc.kernel != "" || sc.chain == "" || hop == 3 {
			break
		}
		url = sc.chain
	}
	if sc.kernel == "" {
		return total, stepScript, fmt.Errorf("script at %s boots no kernel", url)
	}
	if !e.steps[stepKernel] {
		return total, "", nil
	}
	n, err := download(ctx, hc, sc.kernel)
	total += n
	if err != nil {
		return total, stepKernel, err
	}
	for _, u := range sc.initrds {
		n, err := download(ctx, hc, u)
		total += n
		if err != nil {
			return total, stepInitrd, err
		}
	}
	return total, "", nil
}

// vars are the iPXE settings a script's URLs may name.
func (m *machine) vars() map[string]string {
	platform, arch := "pcbios", "i386"
	if m.uefi {
		platform, arch = "efi", "x86_64"
	}
	return map[string]string{
		"mac": m.mac.String(), "uuid": fmt.Sprintf("%x", m.uuid), "platform": platform,
		"buildarch": arch, "hostname:uristring": "", "serial:uristring": "", "hostname": "", "serial": "",
	}
}

// script is what a boot script asks for.
type script struct {
	chain   string
	kernel  string
	initrds []string
}

// parseScript reads the first chain, kernel and initrd URLs of an iPXE
// script, with ${name} settings filled in from vars.
func parseScript(b []byte, vars map[string]string) script {
	var s script
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		u := firstURL(f[1:], vars)
		switch {
		case u == "":
		case f[0] == "chain" && s.chain == "":
			s.chain = u
		case f[0] == "kernel" && s.kernel == "":
			s.kernel = u
		case f[0] == "initrd" || f[0] == "module":
			s.initrds = append(s.initrds, u)
		}
	}
	return s
}

func firstURL(f []string, vars map[string]string) string {
	for _, w := range f {
		if w == "||" {
			return ""
		}
		if strings.HasPrefix(w, "http://") {
			for k, v := range vars {
				w = strings.ReplaceAll(w, "${"+k+"}", v)
			}
			return w
		}
	}
	return ""
}

// getSmall fetches a script: status 200 and at most 1 MiB.
func getSmall(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	resp, err := get(ctx, hc, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return b, fmt.Errorf("GET %s: %w", url, err)
	}
	return b, nil
}

// download reads a file to the end and checks its length against
// Content-Length.
func download(ctx context.Context, hc *http.Client, url string) (int64, error) {
	resp, err := get(ctx, hc, url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 256<<10))
	if err != nil {
		return n, fmt.Errorf("GET %s: after %d bytes: %w", url, n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("GET %s: %d bytes, Content-Length %d", url, n, resp.ContentLength)
	}
	return n, nil
}

func get(ctx context.Context, hc *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "iPXE/1.21.1+ (g4e456)")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: status %s", url, resp.Status)
	}
	return resp, nil
}
