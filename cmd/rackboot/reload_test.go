package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// TestReload swaps in a valid file, refuses an invalid one and keeps the
// running inventory, and says when a change needs a restart.
func TestReload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rackboot.yaml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := "dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\n"
	write(base)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	var inv atomic.Pointer[boot.Inventory]
	inv.Store(boot.NewInventory(cfg))
	var logs bytes.Buffer
	log := logrus.New()
	log.SetOutput(&logs)
	r := newReloader(&inv, overrides{}, log, []byte(base))

	write(base + "machines:\n  - {mac: 52:54:00:12:34:56, profile: disk}\n")
	if !r.reload() || inv.Load().Machine(mustMAC(t, "52:54:00:12:34:56")) == nil {
		t.Fatal("valid file not swapped in")
	}
	before := inv.Load()
	write(base + "machines:\n  - {mac: 52:54:00:zz:34:56}\n")
	if r.reload() || inv.Load() != before {
		t.Fatal("invalid file replaced the running inventory")
	}
	if !strings.Contains(logs.String(), `machines[0].mac: \"52:54:00:zz:34:56\" is not a MAC address`) {
		t.Errorf("the refusal does not show the error:\n%s", logs.String())
	}
	if st := r.Status(); st.LastError == nil || len(st.LastError.Errors) != 1 ||
		!strings.HasPrefix(st.LastError.Errors[0], file+":5: machines[0].mac: ") {
		t.Errorf("status after a refused reload: %+v, want one %s:5: machines[0].mac error", st.LastError, file)
	}
	write("server: {http_port: 8081}\ndhcp: {mode: proxy}\nprofiles:\n  disk: {local: true}\n")
	if !r.reload() || !strings.Contains(logs.String(), "take effect when rackboot restarts") {
		t.Errorf("a dhcp change was not reported as needing a restart:\n%s", logs.String())
	}
	st := r.Status()
	if want := []string{"server.http_port", "dhcp.mode"}; !reflect.DeepEqual(st.RestartNeeded, want) {
		t.Errorf("restart_needed = %q, want %q", st.RestartNeeded, want)
	}
	if st.LastError != nil || st.Reloads != 2 || st.SHA256 != hashOf(mustRead(t, file)) {
		t.Errorf("status after a good reload: %+v", st)
	}
	inv.Store(boot.NewInventory(config.Default()))
	if r.reload() {
		t.Error("reloaded the embedded default")
	}
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMAC(t *testing.T, s string) net.HardwareAddr {
	t.Helper()
	m, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
