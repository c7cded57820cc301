package main

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/internal/etcdtest"
	"github.com/rackboot/rackboot/metrics"
)

// TestInventoryFromEtcd: a machine put into etcd with `rackboot inventory
// put` is in the running inventory within 2 s, one the file names keeps
// the file's entry, and a delete takes it out again.
func TestInventoryFromEtcd(t *testing.T) {
	c := etcdtest.Start(t, 1)
	url := c.URL("/inv")
	file := filepath.Join(t.TempDir(), "rackboot.yaml")
	body := "server:\n  store: " + url + "\ncluster:\n  member: t1\ndhcp: {mode: off}\nprofiles:\n  disk: {local: true}\n  shell: {shell: true}\n" +
		"machines:\n  - mac: 52:54:00:00:00:01\n    profile: disk\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(&strings.Builder{})
	d := &daemon{cfg: cfg, log: log, metrics: &metrics.Registry{}, inv: &atomic.Pointer[boot.Inventory]{},
		server: boot.Server{Addr: netip.MustParseAddr("192.0.2.1")}}
	d.inv.Store(boot.NewInventory(cfg))
	d.reload = newReloader(d.inv, overrides{}, log, []byte(body))
	d.cluster = newClusterComponent(d)
	if err := d.cluster.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	defer d.cluster.Stop(context.Background())

	profileOf := func(mac string) string {
		hw, _ := net.ParseMAC(mac)
		if m := d.inv.Load().Machine(hw); m != nil {
			return m.Profile
		}
		return ""
	}
	put := func(mac, yaml string) {
		t.Helper()
		if _, msg, err := execute(t, yaml, "inventory", "put", "--store", url, "machines", mac); err != nil {
			t.Fatalf("inventory put %s: %v %s", mac, err, msg)
		}
	}
	start := time.Now()
	put("52:54:00:00:00:02", "mac: 52:54:00:00:00:02\nprofile: shell\n")
	put("52:54:00:00:00:01", "mac: 52:54:00:00:00:01\nprofile: shell\n")
	eventually(t, 2*time.Second, "machine from etcd not in the inventory", func() bool { return profileOf("52:54:00:00:00:02") == "shell" })
	t.Logf("applied %v after the put", time.Since(start))
	if got := profileOf("52:54:00:00:00:01"); got != "disk" {
		t.Errorf("the file's machine has profile %q, want the file's disk", got)
	}
	out, _, err := execute(t, "", "inventory", "list", "--store", url)
	if err != nil || !strings.Contains(out, "machines/52:54:00:00:00:02\nmac: 52:54:00:00:00:02") {
		t.Errorf("inventory list: %v\n%s", err, out)
	}
	if _, _, err := execute(t, "", "inventory", "delete", "--store", url, "machines", "52:54:00:00:00:02"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "deleted machine still in the inventory", func() bool { return profileOf("52:54:00:00:00:02") == "" })
	if _, _, err := execute(t, "mac: 52:54:00:00:00:09\n", "inventory", "put", "--store", url, "machines", "52:54:00:00:00:08"); err == nil {
		t.Error("put of a machine whose mac is not its name: accepted")
	}
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
