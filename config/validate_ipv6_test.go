package config

import (
	"net/netip"
	"strings"
	"testing"
)

// TestIPv6Keys: a dual-stack file with one subnet of each family, an IPv6
// fixed address and address6.
func TestIPv6Keys(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte(`server:
  address: 192.0.2.1
  address6: 2001:db8:1::1
dhcp:
  mode: full
  subnets:
    - cidr: 192.0.2.0/24
      range: 192.0.2.100-192.0.2.200
    - cidr: 2001:db8:1::/64
      range: 2001:db8:1::100-2001:db8:1::1ff
      ranges: [2001:db8:1::1:0-2001:db8:1::1:ff]
      dns: [2001:db8:1::53]
machines:
  - {mac: "52:54:00:12:34:56", ipv4: 192.0.2.50, ipv6: "2001:db8:1::50"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Addr != netip.MustParseAddr("192.0.2.1") || cfg.Server.Addr6 != netip.MustParseAddr("2001:db8:1::1") {
		t.Errorf("server addresses: %v %v", cfg.Server.Addr, cfg.Server.Addr6)
	}
	s4, s6 := cfg.DHCP.Subnets[0], cfg.DHCP.Subnets[1]
	if s4.IPv6() || !s6.IPv6() {
		t.Errorf("IPv6() = %v, %v; want false, true", s4.IPv6(), s6.IPv6())
	}
	want := []AddrRange{
		{netip.MustParseAddr("2001:db8:1::100"), netip.MustParseAddr("2001:db8:1::1ff")},
		{netip.MustParseAddr("2001:db8:1::1:0"), netip.MustParseAddr("2001:db8:1::1:ff")},
	}
	if len(s6.Pools) != 2 || s6.Pools[0] != want[0] || s6.Pools[1] != want[1] {
		t.Errorf("pools = %v, want %v", s6.Pools, want)
	}
	if len(s6.DNSAddrs) != 1 || s6.DNSAddrs[0] != netip.MustParseAddr("2001:db8:1::53") {
		t.Errorf("dns = %v", s6.DNSAddrs)
	}
	if m := cfg.Machines[0]; m.Addr6 != netip.MustParseAddr("2001:db8:1::50") || m.Addr != netip.MustParseAddr("192.0.2.50") {
		t.Errorf("machine addresses %v %v", m.Addr, m.Addr6)
	}
}

// TestIPv6OnlyServerAddress: server.address may be IPv6 alone.
func TestIPv6OnlyServerAddress(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte("server: {address: \"2001:db8:1::1\"}\ndhcp: {mode: proxy}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Addr.IsValid() || cfg.Server.Addr6 != netip.MustParseAddr("2001:db8:1::1") {
		t.Errorf("Addr %v Addr6 %v", cfg.Server.Addr, cfg.Server.Addr6)
	}
}

func TestIPv6KeyErrors(t *testing.T) {
	_, err := Parse("x.yaml", []byte(`server:
  address: 2001:db8:1::1
  address6: 2001:db8:1::2
dhcp:
  mode: full
  subnets:
    - cidr: 2001:db8:1::/64
      range: 2001:db8:2::1-2001:db8:2::9
      router: 2001:db8:1::1
      dns: [192.0.2.1]
      mtu: 1500
      ranges: [2001:db8:1::9-2001:db8:1::1]
    - cidr: 2001:db8:1:0:8000::/65
machines:
  - {mac: "52:54:00:12:34:56", ipv6: 192.0.2.9}
  - {mac: "52:54:00:12:34:57", ipv6: "2001:db8:9::1"}
  - {mac: "52:54:00:12:34:58", ipv4: 192.0.2.1}
  - {mac: "52:54:00:12:34:59", ipv6: "2001:db8:1::77"}
  - {mac: "52:54:00:12:34:5a", ipv6: "2001:db8:1::77"}
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"x.yaml:3: server.address6: server.address is IPv6 already",
		"x.yaml:8: dhcp.subnets[0].range: range 2001:db8:2::1-2001:db8:2::9 is not inside 2001:db8:1::/64",
		"x.yaml:9: dhcp.subnets[0].router: an IPv6 subnet has no router key",
		`x.yaml:10: dhcp.subnets[0].dns[0]: "192.0.2.1" is not an IPv6 address`,
		"x.yaml:11: dhcp.subnets[0].mtu: is an IPv4 option",
		"dhcp.subnets[0].ranges[0]: range starts at 2001:db8:1::9, after its end 2001:db8:1::1",
		"x.yaml:13: dhcp.subnets[1].cidr: 2001:db8:1:0:8000::/65 overlaps 2001:db8:1::/64",
		`machines[0].ipv6: "192.0.2.9" is not an IPv6 address`,
		"machines[1].ipv6: 2001:db8:9::1 is not inside any of dhcp.subnets",
		"machines[2].ipv4: 192.0.2.1 is an IPv4 address, but dhcp.subnets has only IPv6 subnets",
		"machines[4].ipv6: 2001:db8:1::77 is also the ipv6 of machines[3]",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestIPv6ServerAddressErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"server: {address: \"fe80::1\"}\n", "server.address: fe80::1 cannot be advertised in boot URLs"},
		{"server: {address: \"nonsense\"}\n", `server.address: "nonsense" is not an IPv4 or IPv6 address`},
		{"server: {address: 192.0.2.1, address6: 192.0.2.2}\n", `server.address6: "192.0.2.2" is not an IPv6 address`},
		{"machines: [{mac: \"52:54:00:12:34:56\", ipv6: \"2001:db8::5\"}]\n", "machines[0].ipv6: 2001:db8::5 is an IPv6 address, but dhcp.subnets has no IPv6 subnet"},
	} {
		_, err := Parse("x.yaml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
