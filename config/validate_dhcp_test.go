package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestDHCPServerKeys(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte(`dhcp:
  mode: full
  max_new_leases_per_second: 50
  subnets:
    - cidr: 192.0.2.0/24
      range: 192.0.2.10-192.0.2.20
      ranges: [192.0.2.100-192.0.2.110]
      ntp: [192.0.2.5]
      mtu: 9000
      routes: [{to: 10.0.0.0/8, via: 192.0.2.254}]
machines:
  - mac: 52:54:00:12:34:56
    dhcp: {router: 192.0.2.254, dns: [9.9.9.9], lease_time: 5m, mtu: 1400}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.DHCP
	if !*d.ConflictDetection || d.ProbeTimeout != DefaultProbeTimeout || d.DeclineHold != DefaultDeclineHold ||
		d.OfferHold != DefaultOfferHold || d.Workers != DefaultDHCPWorkers || d.MaxNewLeasesPerSecond != 50 {
		t.Errorf("defaults not filled: %+v", d)
	}
	s := d.Subnets[0]
	want := []AddrRange{
		{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.20")},
		{netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("192.0.2.110")},
	}
	if len(s.Pools) != 2 || s.Pools[0] != want[0] || s.Pools[1] != want[1] {
		t.Errorf("pools = %v, want %v", s.Pools, want)
	}
	if len(s.NTPAddrs) != 1 || s.MTU != 9000 || s.Routes[0].Dest != netip.MustParsePrefix("10.0.0.0/8") || s.Routes[0].Gateway != netip.MustParseAddr("192.0.2.254") {
		t.Errorf("options: %+v", s)
	}
	m := cfg.Machines[0].DHCP
	if m.RouterAddr != netip.MustParseAddr("192.0.2.254") || len(m.DNSAddrs) != 1 || m.LeaseTime != Duration(5*time.Minute) || m.MTU != 1400 {
		t.Errorf("machine overrides: %+v", m)
	}
}

func TestDHCPServerKeyErrors(t *testing.T) {
	_, err := Parse("x.yaml", []byte(`dhcp:
  mode: full
  workers: -1
  max_new_leases_per_second: -5
  probe_timeout: -1s
  subnets:
    - cidr: 192.0.2.0/24
      range: 192.0.2.10-192.0.2.20
      ranges: [192.0.2.15-192.0.2.30, 198.51.100.1-198.51.100.2, nonsense]
      mtu: 20
      routes: [{to: banana, via: 192.0.2.1}]
machines:
  - mac: 52:54:00:12:34:56
    dhcp: {dns: [not-an-ip]}
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"x.yaml:3: dhcp.workers: must be between 1 and 4096, got -1",
		"x.yaml:4: dhcp.max_new_leases_per_second: must be 0 (no cap) or more, got -5",
		"x.yaml:5: dhcp.probe_timeout: must be longer than 0s",
		"dhcp.subnets[0].ranges[0]: range 192.0.2.15-192.0.2.30 overlaps 192.0.2.10-192.0.2.20 of the same subnet",
		"dhcp.subnets[0].ranges[1]: range 198.51.100.1-198.51.100.2 is not inside 192.0.2.0/24",
		`dhcp.subnets[0].ranges[2]: "nonsense" is not a range`,
		"dhcp.subnets[0].mtu: 20 is not an interface MTU (68-65535)",
		`dhcp.subnets[0].routes[0].to: "banana" is not an IPv4 network`,
		`machines[0].dhcp.dns[0]: "not-an-ip" is not an IPv4 address`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}
