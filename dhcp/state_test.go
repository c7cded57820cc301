package dhcp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/leases"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeProber says the addresses in busy are in use.
type fakeProber struct {
	mu     sync.Mutex
	busy   map[netip.Addr]bool
	probed []netip.Addr
	wait   chan struct{} // when set, each probe waits for it
}

func (p *fakeProber) InUse(ip netip.Addr, _ bool, _ time.Duration) bool {
	if p.wait != nil {
		<-p.wait
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probed = append(p.probed, ip)
	return p.busy[ip]
}

// fixture is a handler on 192.0.2.0/24 (range .100-.102) and the relayed
// 198.51.100.0/24, with a fake clock and an in-memory store.
type fixture struct {
	t     *testing.T
	h     *Handler
	clock *fakeClock
	store *leases.Mem
}

func newFixture(t *testing.T, mod func(*HandlerConfig)) *fixture {
	t.Helper()
	return newFixtureYAML(t, testYAML("demo", testSubnets), mod)
}

// newFixtureYAML is newFixture on another inventory.
func newFixtureYAML(t *testing.T, yaml string, mod func(*HandlerConfig)) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newClock(), store: leases.NewMem()}
	hc := testHandlerConfig(t, yaml)
	hc.Now, hc.Store = f.clock.Now, f.store
	if mod != nil {
		mod(&hc)
	}
	f.h = mustHandler(t, hc)
	return f
}

func mac(n byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, n} }

func (f *fixture) do(mt dhcpv4.MessageType, hw net.HardwareAddr, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	return f.h.Handle(request(f.t, mt, hw, mods...))
}

func (f *fixture) discover(hw net.HardwareAddr, mods ...dhcpv4.Modifier) netip.Addr {
	f.t.Helper()
	r := f.do(dhcpv4.MessageTypeDiscover, hw, mods...)
	if r == nil {
		f.t.Fatalf("DISCOVER from %s: no OFFER", hw)
	}
	if r.MessageType() != dhcpv4.MessageTypeOffer {
		f.t.Fatalf("DISCOVER from %s: got %s", hw, r.MessageType())
	}
	a, _ := dhcpwire.AddrOf(r.YourIPAddr)
	return a
}

func selecting(ip netip.Addr) []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ip.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverAddr.AsSlice())),
	}
}

// bind runs DISCOVER and REQUEST (SELECTING) and returns the ACKed address.
func (f *fixture) bind(hw net.HardwareAddr, mods ...dhcpv4.Modifier) netip.Addr {
	f.t.Helper()
	ip := f.discover(hw, mods...)
	r := f.do(dhcpv4.MessageTypeRequest, hw, append(mods, selecting(ip)...)...)
	if r == nil || r.MessageType() != dhcpv4.MessageTypeAck {
		f.t.Fatalf("REQUEST %s from %s: got %v, want ACK", ip, hw, r)
	}
	return ip
}

func msgType(r *dhcpv4.DHCPv4) string {
	if r == nil {
		return "no reply"
	}
	return r.MessageType().String()
}

func (f *fixture) lastRecord() leases.Lease {
	c := f.store.Changes()
	if len(c) == 0 {
		f.t.Fatal("nothing recorded in the store")
	}
	return c[len(c)-1]
}

func TestSelectingRecordsBeforeACK(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.bind(mac(1), dhcpv4.WithOption(dhcpv4.OptHostName("web1")))
	got := f.lastRecord()
	want := leases.Lease{IP: ip, MAC: mac(1), State: leases.Bound, Expiry: f.clock.Now().Add(time.Hour), Hostname: "web1"}
	if got.IP != want.IP || got.MAC.String() != want.MAC.String() || got.State != want.State || !got.Expiry.Equal(want.Expiry) || got.Hostname != want.Hostname {
		t.Errorf("store record (-want +got):\n-%+v\n+%+v", want, got)
	}
}

func TestSelectingOtherServerForgetsOffer(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.discover(mac(1))
	r := f.do(dhcpv4.MessageTypeRequest, mac(1),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ip.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(192, 0, 2, 9))))
	if r != nil {
		t.Fatalf("REQUEST for another server answered: %s", msgType(r))
	}
	got := map[netip.Addr]bool{}
	for i := byte(2); i <= 4; i++ {
		got[f.discover(mac(i))] = true
	}
	if !got[ip] {
		t.Errorf("the forgotten offer %s was not free again: offered %v", ip, got)
	}
}

func TestSelectingTakenAddressNAK(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.bind(mac(1))
	if r := f.do(dhcpv4.MessageTypeRequest, mac(2), selecting(ip)...); msgType(r) != "NAK" {
		t.Errorf("REQUEST for another client's address: %s, want NAK", msgType(r))
	}
	if r := f.do(dhcpv4.MessageTypeRequest, mac(2), selecting(netip.MustParseAddr("192.0.2.7"))...); msgType(r) != "NAK" {
		t.Errorf("REQUEST for an address outside the pool: %s, want NAK", msgType(r))
	}
}

func TestInitReboot(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.bind(mac(1))
	reboot := func(hw net.HardwareAddr, a string) *dhcpv4.DHCPv4 {
		return f.do(dhcpv4.MessageTypeRequest, hw, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.ParseIP(a))))
	}
	tests := []struct {
		name string
		hw   net.HardwareAddr
		ip   string
		want string
	}{
		{"own address", mac(1), ip.String(), "ACK"},
		{"wrong address", mac(1), "192.0.2.101", "NAK"},
		{"another network", mac(1), "10.1.2.3", "NAK"},
		{"unknown client", mac(9), "192.0.2.102", "no reply"},
		{"unknown client, off the pool", mac(9), "192.0.2.3", "NAK"},
		{"fixed machine, its address", knownMAC, "192.0.2.50", "ACK"},
		{"fixed machine, pool address", knownMAC, "192.0.2.101", "NAK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := msgType(reboot(tt.hw, tt.ip)); got != tt.want {
				t.Errorf("INIT-REBOOT %s asking %s: %s, want %s", tt.hw, tt.ip, got, tt.want)
			}
		})
	}
}

func TestRenewingAndRebinding(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.bind(mac(1))
	f.clock.Add(30 * time.Minute)
	for _, tt := range []struct {
		name string
		mods []dhcpv4.Modifier
	}{
		{"renewing", []dhcpv4.Modifier{dhcpv4.WithClientIP(ip.AsSlice())}},
		{"rebinding", []dhcpv4.Modifier{dhcpv4.WithClientIP(ip.AsSlice()), dhcpv4.WithBroadcast(true)}},
	} {
		f.clock.Add(time.Minute)
		r := f.do(dhcpv4.MessageTypeRequest, mac(1), tt.mods...)
		if msgType(r) != "ACK" || !r.YourIPAddr.Equal(ip.AsSlice()) {
			t.Fatalf("%s: %s yiaddr %v, want ACK of %s", tt.name, msgType(r), r, ip)
		}
		rec := f.lastRecord()
		if rec.State != leases.Bound || !rec.Expiry.Equal(f.clock.Now().Add(time.Hour)) {
			t.Errorf("%s: store has %+v, want bound until %s", tt.name, rec, f.clock.Now().Add(time.Hour))
		}
	}
	if r := f.do(dhcpv4.MessageTypeRequest, mac(2), dhcpv4.WithClientIP(ip.AsSlice())); msgType(r) != "NAK" {
		t.Errorf("renewing another client's address: %s, want NAK", msgType(r))
	}
}

func TestReleaseReturnsAddress(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.bind(mac(1))
	f.do(dhcpv4.MessageTypeRelease, mac(2), dhcpv4.WithClientIP(ip.AsSlice()))
	if f.lastRecord().State != leases.Bound {
		t.Fatal("a RELEASE from another client freed the address")
	}
	f.do(dhcpv4.MessageTypeRelease, mac(1), dhcpv4.WithClientIP(ip.AsSlice()))
	if rec := f.lastRecord(); rec.State != leases.Released || rec.IP != ip {
		t.Fatalf("after RELEASE the store has %+v", rec)
	}
	if got := f.discover(mac(1)); got != ip {
		t.Errorf("the releasing client came back and got %s, want its old %s", got, ip)
	}
	f.bind(mac(2))
	f.bind(mac(3))
	f.clock.Add(DefaultOfferHold + time.Second)
	if got := f.bind(mac(4)); got != ip {
		t.Errorf("with only the released address free, got %s, want %s", got, ip)
	}
}

func TestDeclineQuarantines(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.bind(mac(1))
	f.do(dhcpv4.MessageTypeDecline, mac(1), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ip.AsSlice())))
	if rec := f.lastRecord(); rec.State != leases.Declined || !rec.Expiry.Equal(f.clock.Now().Add(DefaultDeclineHold)) {
		t.Fatalf("after DECLINE the store has %+v", rec)
	}
	for i := byte(1); i <= 2; i++ {
		if got := f.bind(mac(10 + i)); got == ip {
			t.Fatalf("declined %s offered again during the quarantine", ip)
		}
	}
	if r := f.do(dhcpv4.MessageTypeDiscover, mac(20)); r != nil {
		t.Fatalf("pool of 3 with 2 bound and 1 declined offered %s", r.YourIPAddr)
	}
	f.clock.Add(DefaultDeclineHold + time.Second)
	if got := f.discover(mac(20)); got != ip {
		t.Errorf("after the quarantine got %s, want %s", got, ip)
	}
	if f.h.Metrics.Declines.Load() != 1 || f.h.Metrics.PoolExhausted.Load() != 1 {
		t.Errorf("metrics %v", f.h.Metrics.Snapshot())
	}
}

func TestInform(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do(dhcpv4.MessageTypeInform, mac(1), dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 7)))
	if msgType(r) != "ACK" || !r.YourIPAddr.IsUnspecified() || r.Options.Has(dhcpv4.OptionIPAddressLeaseTime) || r.Router() == nil {
		t.Fatalf("INFORM reply %v: want ACK with options, no yiaddr, no lease time", r)
	}
	if d := dhcpwire.Route(request(t, dhcpv4.MessageTypeInform, mac(1), dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 7))), r); d.IP.String() != "192.0.2.7" || d.L2() {
		t.Errorf("INFORM reply routed to %s (l2 %v), want unicast to ciaddr", d.IP, d.L2())
	}
}

func TestLeaseExpires(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.bind(mac(1))
	f.bind(mac(2))
	f.bind(mac(3))
	f.clock.Add(time.Hour + time.Second)
	f.h.Sweep()
	expired := 0
	for _, c := range f.store.Changes() {
		if c.State == leases.Expired {
			expired++
		}
	}
	if expired != 3 || f.h.Metrics.Expired.Load() != 3 {
		t.Fatalf("%d expiries recorded (metric %d), want 3", expired, f.h.Metrics.Expired.Load())
	}
	if r := f.do(dhcpv4.MessageTypeRequest, mac(1), dhcpv4.WithClientIP(ip.AsSlice())); msgType(r) != "ACK" {
		t.Errorf("renewing an expired lease nobody took: %s, want ACK", msgType(r))
	}
	f.clock.Add(2 * time.Hour)
	if got := f.bind(mac(9)); !testSubnetPool(got) {
		t.Errorf("after expiry a new client got %s", got)
	}
}

func testSubnetPool(a netip.Addr) bool {
	return a.Compare(netip.MustParseAddr("192.0.2.100")) >= 0 && a.Compare(netip.MustParseAddr("192.0.2.102")) <= 0
}

func TestOfferHoldsBriefly(t *testing.T) {
	f := newFixture(t, nil)
	first := f.discover(mac(1))
	for i := byte(2); i <= 3; i++ {
		f.discover(mac(i))
	}
	if got := f.discover(mac(4)); got != first {
		t.Fatalf("pool full of offers offered %s, want the oldest offer, %s", got, first)
	}
	f.clock.Add(DefaultOfferHold + time.Second)
	f.h.Sweep()
	f.discover(mac(5))
	if len(f.store.Changes()) != 0 {
		t.Errorf("offers reached the store: %+v", f.store.Changes())
	}
}

func TestFixedAddressNeverPooled(t *testing.T) {
	f := newFixtureYAML(t, testYAML("demo", `
  - {cidr: 192.0.2.0/24, range: 192.0.2.49-192.0.2.51, router: 192.0.2.1}
`), nil)
	got := map[netip.Addr]bool{}
	for i := byte(1); i <= 3; i++ {
		if r := f.do(dhcpv4.MessageTypeDiscover, mac(i)); r != nil {
			a, _ := dhcpwire.AddrOf(r.YourIPAddr)
			got[a] = true
		}
	}
	if got[netip.MustParseAddr("192.0.2.50")] || len(got) != 2 {
		t.Errorf("pool handed out %v; want .49 and .51 only", got)
	}
	if ip := f.bind(knownMAC); ip.String() != "192.0.2.50" {
		t.Errorf("fixed machine got %s, want 192.0.2.50", ip)
	}
}

func TestClientIdentifier(t *testing.T) {
	f := newFixture(t, nil)
	id := dhcpv4.WithOption(dhcpv4.OptClientIdentifier([]byte{0xff, 1, 2, 3, 4}))
	ip := f.bind(mac(1), id)
	if rec := f.lastRecord(); string(rec.ClientID) != string([]byte{0xff, 1, 2, 3, 4}) {
		t.Errorf("store record has client id %x", rec.ClientID)
	}
	// Same client id from another NIC: same lease.
	if got := f.discover(mac(2), id); got != ip {
		t.Errorf("same client id, other MAC: offered %s, want %s", got, ip)
	}
	// Same MAC without the client id: another client.
	if got := f.discover(mac(1)); got == ip {
		t.Errorf("same MAC without client id got the client id's lease %s", ip)
	}
}

func TestOneLeasePerClient(t *testing.T) {
	f := newFixture(t, nil)
	first := f.bind(mac(1))
	other := netip.MustParseAddr("192.0.2.102")
	if r := f.do(dhcpv4.MessageTypeRequest, mac(1), selecting(other)...); msgType(r) != "ACK" {
		t.Fatalf("REQUEST for a free address: %s", msgType(r))
	}
	bound := 0
	for _, l := range f.h.subnets[0].pool.Leases() {
		if l.MAC.String() == mac(1).String() {
			bound++
		}
	}
	st, _ := f.store.List()
	for _, l := range st {
		if l.IP == first && l.State != leases.Released {
			t.Errorf("old address %s still %s in the store", first, l.State)
		}
	}
	if bound != 1 {
		t.Errorf("client holds %d leases, want 1", bound)
	}
}

func TestStoreFailureSendsNoACK(t *testing.T) {
	f := newFixture(t, nil)
	ip := f.discover(mac(1))
	f.store.Fail = errors.New("disk full")
	if r := f.do(dhcpv4.MessageTypeRequest, mac(1), selecting(ip)...); r != nil {
		t.Fatalf("ACKed a lease the store did not record: %s", msgType(r))
	}
	if f.h.Metrics.StoreErrors.Load() != 1 {
		t.Errorf("store_errors = %d, want 1", f.h.Metrics.StoreErrors.Load())
	}
	f.store.Fail = nil
	if r := f.do(dhcpv4.MessageTypeRequest, mac(1), selecting(ip)...); msgType(r) != "ACK" {
		t.Errorf("retry after the store recovered: %s, want ACK", msgType(r))
	}
}

func TestRestartKeepsLeases(t *testing.T) {
	f := newFixture(t, nil)
	a := f.bind(mac(1))
	b := f.bind(mac(2), dhcpv4.WithOption(dhcpv4.OptClientIdentifier([]byte{1, 9})))
	g := newFixture(t, func(hc *HandlerConfig) { hc.Store = f.store; hc.Now = f.clock.Now })
	g.store = f.store
	if got := g.discover(mac(1)); got != a {
		t.Errorf("after restart client 1 offered %s, want %s", got, a)
	}
	if got := g.discover(mac(7), dhcpv4.WithOption(dhcpv4.OptClientIdentifier([]byte{1, 9}))); got != b {
		t.Errorf("after restart client 2 (by client id) offered %s, want %s", got, b)
	}
	if r := g.do(dhcpv4.MessageTypeRequest, mac(1), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(a.AsSlice()))); msgType(r) != "ACK" {
		t.Errorf("INIT-REBOOT after restart: %s, want ACK", msgType(r))
	}
	if got := g.discover(mac(3)); got == a || got == b {
		t.Errorf("after restart a new client got a bound address %s", got)
	}
}

func TestConflictProbe(t *testing.T) {
	p := &fakeProber{busy: map[netip.Addr]bool{netip.MustParseAddr("192.0.2.100"): true}}
	f := newFixture(t, func(hc *HandlerConfig) { hc.Prober = p })
	if got := f.discover(mac(1)); got.String() != "192.0.2.101" {
		t.Fatalf("offered %s, want 192.0.2.101 (.100 answers probes)", got)
	}
	if len(p.probed) != 2 || f.h.Metrics.Conflicts.Load() != 1 {
		t.Errorf("probed %v, conflicts %d; want .100 and .101, 1", p.probed, f.h.Metrics.Conflicts.Load())
	}
	if rec := f.lastRecord(); rec.State != leases.Declined || rec.IP.String() != "192.0.2.100" {
		t.Errorf("conflict recorded as %+v", rec)
	}
	// A known client's own address is not probed again.
	f.bind(mac(1))
	n := len(p.probed)
	f.discover(mac(1))
	if len(p.probed) != n {
		t.Errorf("the client's own address was probed again")
	}
}

// TestProbeDoesNotStall: while a probe waits, other requests are answered;
// the OFFER comes when the probe ends.
func TestProbeDoesNotStall(t *testing.T) {
	p := &fakeProber{busy: map[netip.Addr]bool{}, wait: make(chan struct{})}
	f := newFixture(t, func(hc *HandlerConfig) { hc.Prober = p; hc.Go = NewProbeRunner(4) })
	offers := make(chan *dhcpv4.DHCPv4, 1)
	f.h.Respond(request(t, dhcpv4.MessageTypeDiscover, mac(1)), func(r *dhcpv4.DHCPv4) { offers <- r })
	if r := f.do(dhcpv4.MessageTypeRequest, knownMAC, selecting(netip.MustParseAddr("192.0.2.50"))...); msgType(r) != "ACK" {
		t.Fatalf("another client during a probe: %s, want ACK", msgType(r))
	}
	select {
	case r := <-offers:
		t.Fatalf("OFFER %v sent before its probe ended", r)
	default:
	}
	close(p.wait)
	select {
	case r := <-offers:
		if msgType(r) != "OFFER" {
			t.Errorf("after the probe: %s", msgType(r))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OFFER after the probe ended")
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, func(hc *HandlerConfig) { hc.MaxNewLeasesPerSecond = 2 })
	f.discover(mac(1))
	f.discover(mac(2))
	if r := f.do(dhcpv4.MessageTypeDiscover, mac(3)); r != nil {
		t.Errorf("third new client in a second was offered %s", r.YourIPAddr)
	}
	f.discover(mac(1)) // a client holding an offer is not new
	relayed := dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1))
	f.discover(mac(4), relayed) // each relay has its own budget
	f.clock.Add(time.Second)
	f.discover(mac(3))
	if f.h.Metrics.RateLimited.Load() != 1 {
		t.Errorf("rate_limited = %d, want 1", f.h.Metrics.RateLimited.Load())
	}
}

func TestRelayedSubnetAndOption82(t *testing.T) {
	f := newFixture(t, nil)
	ri := []byte{1, 3, 'e', 't', '0'}
	mods := []dhcpv4.Modifier{dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1)), dhcpv4.WithGeneric(dhcpv4.OptionRelayAgentInformation, ri)}
	r := f.do(dhcpv4.MessageTypeDiscover, mac(1), mods...)
	if r == nil || !r.YourIPAddr.Equal(net.IPv4(198, 51, 100, 10)) || string(r.Options.Get(dhcpv4.OptionRelayAgentInformation)) != string(ri) {
		t.Fatalf("relayed OFFER %v: want 198.51.100.10 with option 82 echoed", r)
	}
	if r := f.do(dhcpv4.MessageTypeDiscover, mac(1), dhcpv4.WithGatewayIP(net.IPv4(203, 0, 113, 1))); r != nil {
		t.Errorf("relay of an unknown network answered: %v", r)
	}
}

func TestSeveralRangesAndOptions(t *testing.T) {
	f := newFixtureYAML(t, testYAML("demo", `
  - cidr: 192.0.2.0/24
    range: 192.0.2.100-192.0.2.100
    ranges: [192.0.2.200-192.0.2.200]
    router: 192.0.2.1
    ntp: [192.0.2.5]
    mtu: 9000
    domain: lab.example
    routes: [{to: 10.0.0.0/8, via: 192.0.2.254}]
`), nil)
	a, b := f.discover(mac(1)), f.discover(mac(2))
	if a.String() != "192.0.2.100" || b.String() != "192.0.2.200" {
		t.Errorf("two ranges gave %s, %s", a, b)
	}
	r := f.do(dhcpv4.MessageTypeDiscover, mac(1))
	wantRoutes := []byte{8, 10, 192, 0, 2, 254, 0, 192, 0, 2, 1}
	if got := r.Options.Get(dhcpv4.OptionClasslessStaticRoute); string(got) != string(wantRoutes) {
		t.Errorf("option 121 = %v, want %v", got, wantRoutes)
	}
	if got := r.Options.Get(dhcpv4.OptionInterfaceMTU); string(got) != string([]byte{0x23, 0x28}) {
		t.Errorf("option 26 = %v", got)
	}
	if got := r.NTPServers(); len(got) != 1 || !got[0].Equal(net.IPv4(192, 0, 2, 5)) {
		t.Errorf("option 42 = %v", got)
	}
	if r.DomainName() != "lab.example" {
		t.Errorf("option 15 = %q", r.DomainName())
	}
}

func TestMachineOverrides(t *testing.T) {
	f := newFixtureYAML(t, `
dhcp:
  subnets:`+testSubnets+`
profiles: {demo: {kernel: vmlinuz}}
machines:
  - mac: "02:00:00:00:00:01"
    hostname: db1
    dhcp: {router: 192.0.2.254, dns: [9.9.9.9], domain: db.example, lease_time: 5m, mtu: 1400}
`, nil)
	ip := f.discover(mac(1))
	r := f.do(dhcpv4.MessageTypeRequest, mac(1), selecting(ip)...)
	if msgType(r) != "ACK" {
		t.Fatal(msgType(r))
	}
	got := []string{r.Router()[0].String(), r.DNS()[0].String(), r.DomainName(), r.IPAddressLeaseTime(0).String(), r.HostName()}
	want := []string{"192.0.2.254", "9.9.9.9", "db.example", "5m0s", "db1"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("override %d = %q, want %q", i, got[i], want[i])
		}
	}
	if rec := f.lastRecord(); !rec.Expiry.Equal(f.clock.Now().Add(5 * time.Minute)) {
		t.Errorf("lease recorded until %s, want 5 minutes", rec.Expiry)
	}
}
