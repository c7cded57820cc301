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

// TestLeasesCommand lists a store while it is open (as a running server
// holds it) and after it is closed, as a table and as JSON.
func TestLeasesCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := leases.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	st.Allocate(leases.Lease{IP: netip.MustParseAddr("192.0.2.100"), MAC: net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}, Expiry: exp, Hostname: "web1"})
	st.Release(leases.Lease{IP: netip.MustParseAddr("192.0.2.101"), MAC: net.HardwareAddr{0x52, 0x54, 0, 1, 2, 4}, Expiry: exp})
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
	wantTable := "MAC                IP           STATE     EXPIRY                HOSTNAME\n" +
		"52:54:00:01:02:03  192.0.2.100  bound     2026-05-01T12:00:00Z  web1\n" +
		"52:54:00:01:02:04  192.0.2.101  released  2026-05-01T12:00:00Z  -\n"
	if got := run(); got != wantTable {
		t.Errorf("while open (-want +got):\n-%s\n+%s", wantTable, got)
	}
	st.Close()
	if got := run(); got != wantTable {
		t.Errorf("after close (-want +got):\n-%s\n+%s", wantTable, got)
	}
	wantJSON := `{"mac":"52:54:00:01:02:03","ip":"192.0.2.100","state":"bound","expiry":"2026-05-01T12:00:00Z","hostname":"web1"}`
	if got := strings.Split(run("--json"), "\n")[0]; got != wantJSON {
		t.Errorf("json (-want +got):\n-%s\n+%s", wantJSON, got)
	}
}

// TestLeasesReadsEnvironment: RACKBOOT_DATA_DIR names the data directory
// of `rackboot leases` as --data-dir does, like every other flag's
// variable.
func TestLeasesReadsEnvironment(t *testing.T) {
	dir := t.TempDir()
	st, err := leases.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Allocate(leases.Lease{IP: netip.MustParseAddr("192.0.2.100"), MAC: net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}, Expiry: time.Now().Add(time.Hour)})
	st.Close()
	t.Setenv("RACKBOOT_DATA_DIR", dir)
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"leases"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "192.0.2.100") {
		t.Errorf("RACKBOOT_DATA_DIR ignored; got:\n%s", out.String())
	}
}
