package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/admin"
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
	d, _ := member(t, url, "t1", "machines:\n  - mac: 52:54:00:00:00:01\n    profile: disk\n")
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

// member is one instance's daemon pieces for the cluster tests: the
// reloader, the admin API behind its token, and the cluster component.
func member(t *testing.T, url, name, extra string) (*daemon, http.Handler) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "rackboot.yaml")
	body := "server:\n  store: " + url + "\n  data_dir: " + filepath.Join(dir, "data") + "\ncluster:\n  member: " + name +
		"\ndhcp: {mode: off}\nprofiles:\n  disk: {local: true}\n  shell: {shell: true}\n" + extra
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(&strings.Builder{})
	t.Setenv(admin.TokenEnv, "tok")
	d := &daemon{cfg: cfg, log: log, metrics: &metrics.Registry{}, inv: &atomic.Pointer[boot.Inventory]{}, api: http.NewServeMux(),
		server: boot.Server{Addr: netip.MustParseAddr("192.0.2.1")}}
	d.inv.Store(boot.NewInventory(cfg))
	d.reload = newReloader(d.inv, overrides{}, log, []byte(body))
	if err := d.adminAPI(); err != nil {
		t.Fatal(err)
	}
	d.cluster = newClusterComponent(d)
	if err := d.cluster.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.cluster.Stop(context.Background()) })
	return d, d.apiAuth
}

// TestAdminEntriesShared: a machine added through one member's admin API
// is in the other member's inventory within 2 s, and so is its removal; a
// member started later gets the entries from etcd.
func TestAdminEntriesShared(t *testing.T) {
	c := etcdtest.Start(t, 1)
	url := c.URL("/adm")
	d1, api1 := member(t, url, "m1", "")
	d2, _ := member(t, url, "m2", "")
	profileOf := func(d *daemon, mac string) string {
		hw, _ := net.ParseMAC(mac)
		if m := d.inv.Load().Machine(hw); m != nil {
			return m.Profile
		}
		return ""
	}
	do := func(method, path, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		rec := httptest.NewRecorder()
		api1.ServeHTTP(rec, req)
		return rec.Code
	}
	const mac = "52:54:00:00:00:05"
	if code := do("PUT", "/api/v1/machines/"+mac, `{"profile": "shell"}`); code/100 != 2 {
		t.Fatalf("PUT on m1: %d", code)
	}
	if profileOf(d1, mac) != "shell" {
		t.Fatal("m1 itself does not have the machine")
	}
	start := time.Now()
	eventually(t, 2*time.Second, "m2 never got m1's admin entry", func() bool { return profileOf(d2, mac) == "shell" })
	t.Logf("m2 applied m1's entry %v after the PUT returned", time.Since(start))
	d3, _ := member(t, url, "m3", "")
	if profileOf(d3, mac) != "shell" {
		t.Error("a member started later lacks the entry in etcd")
	}
	if code := do("DELETE", "/api/v1/machines/"+mac, ""); code/100 != 2 {
		t.Fatalf("DELETE on m1: %d", code)
	}
	eventually(t, 2*time.Second, "m2 still has the deleted machine", func() bool { return profileOf(d2, mac) == "" })
}
