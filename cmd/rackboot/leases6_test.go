package main

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rackboot/rackboot/leases"
)

// TestLeasesCommandIPv6: `rackboot leases` lists the DHCPv6 leases
// (leases6.wal) after the DHCPv4 ones, with the DUID as client id.
func TestLeasesCommandIPv6(t *testing.T) {
	dir := t.TempDir()
	st4, err := leases.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st6, err := leases.Open6(dir)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	mac := net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}
	st4.Allocate(leases.Lease{IP: netip.MustParseAddr("192.0.2.100"), MAC: mac, Expiry: exp})
	st6.Allocate(leases.Lease{IP: netip.MustParseAddr("2001:db8:1::150"), MAC: mac, ClientID: []byte{0, 4, 1, 2}, Expiry: exp, Hostname: "n1"})
	st4.Close()
	st6.Close()
	run := func(args ...string) string {
		t.Helper()
		cmd := newRootCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(append([]string{"leases", "--data-dir", dir}, args...))
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	want := "MAC                IP               STATE  EXPIRY                HOSTNAME\n" +
		"52:54:00:01:02:03  192.0.2.100      bound  2026-05-01T12:00:00Z  -\n" +
		"52:54:00:01:02:03  2001:db8:1::150  bound  2026-05-01T12:00:00Z  n1\n"
	if got := run(); got != want {
		t.Errorf("table (-want +got):\n-%s\n+%s", want, got)
	}
	lines := strings.Split(run("--json"), "\n")
	if want := `{"mac":"52:54:00:01:02:03","ip":"2001:db8:1::150","state":"bound","expiry":"2026-05-01T12:00:00Z","hostname":"n1","client_id":"00040102"}`; lines[1] != want {
		t.Errorf("json (-want +got):\n-%s\n+%s", want, lines[1])
	}
}

// TestLeasesImportIPv6: export then import into a fresh data directory
// puts the IPv4 lease in leases.wal and the IPv6 one in leases6.wal, and
// lists the same.
func TestLeasesImportIPv6(t *testing.T) {
	from, to := t.TempDir(), t.TempDir()
	st4, _ := leases.Open(from)
	st6, _ := leases.Open6(from)
	exp := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	mac := net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}
	st4.Allocate(leases.Lease{IP: netip.MustParseAddr("192.0.2.100"), MAC: mac, Expiry: exp})
	st6.Allocate(leases.Lease{IP: netip.MustParseAddr("2001:db8:1::150"), MAC: mac, ClientID: []byte{0, 4}, Expiry: exp})
	st4.Close()
	st6.Close()
	exported, _, err := execute(t, "", "leases", "export", "--data-dir", from)
	if err != nil || strings.Count(exported, "\n") != 2 {
		t.Fatalf("export: %v\n%s", err, exported)
	}
	if _, msg, err := execute(t, exported, "leases", "import", "--data-dir", to); err != nil {
		t.Fatalf("import: %v (%s)", err, msg)
	}
	again, _, err := execute(t, "", "leases", "export", "--data-dir", to)
	if err != nil || again != exported {
		t.Fatalf("after import (err %v):\n%s\nwant:\n%s", err, again, exported)
	}
	v6, err := leases.Open6(to)
	if err != nil {
		t.Fatal(err)
	}
	defer v6.Close()
	if ls, _ := v6.List(); len(ls) != 1 || !ls[0].IP.Is6() {
		t.Errorf("leases6.wal holds %+v", ls)
	}
}
