package doctor

import (
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/internal/golden"
)

var (
	testMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	testXID = dhcpv4.TransactionID{1, 2, 3, 4}
)

// offer builds an OFFER to the probe from server with mods.
func offer(t testing.TB, server string, mods ...dhcpv4.Modifier) []byte {
	t.Helper()
	base := []dhcpv4.Modifier{dhcpv4.WithReply(mustDiscover(t)), dhcpv4.WithMessageType(dhcpv4.MessageTypeOffer),
		dhcpv4.WithServerIP(net.IPv4zero), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP(server)))}
	p, err := dhcpv4.New(append(base, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p.ToBytes()
}

func mustDiscover(t testing.TB) *dhcpv4.DHCPv4 {
	t.Helper()
	d, err := Discover(testMAC, testXID, [16]byte{0xaa, 15: 0xbb})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDiscover: the probe is a BIOS PXE ROM's DISCOVER, broadcast flag
// set; its bytes are a golden file.
func TestDiscover(t *testing.T) {
	d := mustDiscover(t)
	if !d.IsBroadcast() || d.ClassIdentifier() != PXEVendorClass || d.MessageType() != dhcpv4.MessageTypeDiscover {
		t.Errorf("discover: %s", d.Summary())
	}
	if got := d.Options.Get(dhcpv4.OptionClientSystemArchitectureType); !reflect.DeepEqual(got, []byte{0, 0}) {
		t.Errorf("option 93 = %x, want 0000", got)
	}
	if got := d.Options.Get(dhcpv4.OptionClientMachineIdentifier); len(got) != 17 || got[0] != 0 {
		t.Errorf("option 97 = %x, want type 0 and 16 bytes", got)
	}
	golden.Check(t, "testdata/discover.golden", []byte(d.Summary()))
}

// TestParseAnswer tells the three kinds of server apart and ignores what
// does not answer the probe.
func TestParseAnswer(t *testing.T) {
	src := netip.MustParseAddr("192.0.2.2")
	tests := []struct {
		name string
		pkt  []byte
		want Answer
		ok   bool
	}{
		{"plain", offer(t, "192.0.2.2", dhcpv4.WithYourIP(net.IPv4(192, 0, 2, 150))),
			Answer{Server: src, Source: src, Offered: netip.MustParseAddr("192.0.2.150"), Kind: KindPlain}, true},
		{"boot options", offer(t, "192.0.2.9", dhcpv4.WithYourIP(net.IPv4(192, 0, 2, 150)), dhcpv4.WithServerIP(net.IPv4(192, 0, 2, 1)),
			func(p *dhcpv4.DHCPv4) { p.BootFileName = "undionly.kpxe" }),
			Answer{Server: netip.MustParseAddr("192.0.2.9"), Source: src, Offered: netip.MustParseAddr("192.0.2.150"),
				NextServer: netip.MustParseAddr("192.0.2.1"), BootFile: "undionly.kpxe", Kind: KindBoot}, true},
		{"option 67 only", offer(t, "192.0.2.2", dhcpv4.WithYourIP(net.IPv4(192, 0, 2, 150)), dhcpv4.WithOption(dhcpv4.OptBootFileName("pxelinux.0"))),
			Answer{Server: src, Source: src, Offered: netip.MustParseAddr("192.0.2.150"), BootFile: "pxelinux.0", Kind: KindBoot}, true},
		{"proxyDHCP", offer(t, "192.0.2.2", dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient")),
			dhcpv4.WithGeneric(dhcpv4.OptionVendorSpecificInformation, []byte{6, 1, 8, 255})),
			Answer{Server: src, Source: src, PXEClient: true, Option43: true, Kind: KindProxy}, true},
		{"another transaction", offer(t, "192.0.2.2", dhcpv4.WithTransactionID(dhcpv4.TransactionID{9})), Answer{}, false},
		{"an ACK", offer(t, "192.0.2.2", dhcpv4.WithMessageType(dhcpv4.MessageTypeAck)), Answer{}, false},
		{"the probe itself", mustDiscover(t).ToBytes(), Answer{}, false},
		{"garbage", []byte{1, 2, 3}, Answer{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseAnswer(tt.pkt, src, testXID)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v %v\nwant %+v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestRecommend: boot options already served -> off, addresses only ->
// proxy, nothing -> full; ports a mode needs become notes.
func TestRecommend(t *testing.T) {
	ifi := Interface{Name: "eth1", Up: true, MTU: 1500, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}}
	plain := Answer{Server: netip.MustParseAddr("192.0.2.2"), Kind: KindPlain}
	booting := Answer{Server: netip.MustParseAddr("192.0.2.3"), Kind: KindBoot}
	free := []Port{{Proto: "udp", Number: 67, Free: true}, {Proto: "udp", Number: 69, Free: true}}
	taken67 := []Port{{Proto: "udp", Number: 67, Use: "DHCP", Err: "in use by another process"}, {Proto: "udp", Number: 69, Free: true}}
	tests := []struct {
		name    string
		r       Report
		mode    string
		command string
		notes   int
	}{
		{"none", Report{Interface: ifi, Ports: free}, "full", "rackboot serve --interface eth1   # dhcp.mode: full (the default)", 0},
		{"none, 67 taken", Report{Interface: ifi, Ports: taken67}, "full", "rackboot serve --interface eth1   # dhcp.mode: full (the default)", 1},
		{"plain", Report{Interface: ifi, Answers: []Answer{plain}, Ports: taken67, Config: "/etc/rackboot/rackboot.yaml"}, "proxy",
			"rackboot serve --proxy --interface eth1 --config /etc/rackboot/rackboot.yaml", 0},
		{"booting", Report{Interface: ifi, Answers: []Answer{plain, booting}, Ports: free}, "off",
			"rackboot serve --interface eth1   # with dhcp.mode: off in the inventory", 0},
		{"no address, down", Report{Interface: Interface{Name: "eth1"}, Ports: free}, "full", "rackboot serve --interface eth1   # dhcp.mode: full (the default)", 2},
		{"probe failed", Report{Interface: ifi, ProbeErr: "permission denied"}, "unknown", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := Recommend(tt.r)
			if rec.Mode != tt.mode || rec.Command != tt.command || len(rec.Notes) != tt.notes {
				t.Errorf("got mode %q command %q notes %q\nwant %q %q and %d notes", rec.Mode, rec.Command, rec.Notes, tt.mode, tt.command, tt.notes)
			}
		})
	}
	if rec := Recommend(Report{Interface: ifi, Answers: []Answer{booting}}); !strings.Contains(rec.Why, "192.0.2.3") {
		t.Errorf("the reason does not name the server that boots: %q", rec.Why)
	}
}

// TestFormat renders one report of each kind of answer (golden file).
func TestFormat(t *testing.T) {
	a, _ := ParseAnswer(offer(t, "192.0.2.9", dhcpv4.WithYourIP(net.IPv4(192, 0, 2, 150)), dhcpv4.WithServerIP(net.IPv4(192, 0, 2, 1)),
		func(p *dhcpv4.DHCPv4) { p.BootFileName = "undionly.kpxe" }), netip.MustParseAddr("192.0.2.9"), testXID)
	b, _ := ParseAnswer(offer(t, "192.0.2.2", dhcpv4.WithYourIP(net.IPv4(192, 0, 2, 151))), netip.MustParseAddr("192.0.2.2"), testXID)
	r := Report{
		Interface: Interface{Name: "br0", Up: true, MTU: 1500, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}},
		Answers:   []Answer{a, b},
		Ports: []Port{{Proto: "udp", Number: 67, Use: "DHCP (full mode)", Err: "in use by another process"},
			{Proto: "udp", Number: 69, Use: "TFTP", Free: true}, {Proto: "tcp", Number: 8080, Use: "HTTP", Free: true}},
	}
	golden.Check(t, "testdata/report.golden", []byte(Format(r, Recommend(r))))
}

// FuzzParseAnswer: any bytes parse or are refused without panicking, and
// an accepted answer has a server address.
func FuzzParseAnswer(f *testing.F) {
	f.Add(offer(f, "192.0.2.2", dhcpv4.WithYourIP(net.IPv4(192, 0, 2, 150))))
	f.Add(offer(f, "192.0.2.2", dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := ParseAnswer(b, netip.MustParseAddr("192.0.2.2"), testXID)
		if ok && !a.Server.IsValid() {
			t.Errorf("accepted answer without a server: %+v", a)
		}
		_ = Format(Report{Answers: []Answer{a}}, Recommend(Report{Answers: []Answer{a}}))
	})
}
