package cluster

import (
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/rackboot/rackboot/internal/etcdtest"
)

const fileInv = `server: {}
profiles:
  demo: {local: true}
machines:
  - mac: 52:54:00:00:00:01
    profile: demo
default_profile: demo
`

func TestMerge(t *testing.T) {
	e := Entries{
		KindMachines: {
			"52:54:00:00:00:01": []byte("mac: 52:54:00:00:00:01\nprofile: shell\n"), // the file has it
			"52:54:00:00:00:02": []byte("mac: 52-54-00-00-00-02\nprofile: shell\nhostname: n2\n"),
			"52:54:00:00:00:03": []byte("mac: 52:54:00:00:00:04\n"), // name and mac differ
		},
		KindProfiles: {
			"demo":  []byte("shell: true\n"), // the file has it
			"shell": []byte("shell: true\n"),
		},
		KindGroups: {"rack-a": []byte("name: rack-a\nselector: {rack: a}\nprofile: shell\n")},
	}
	merged, shadowed, bad, err := Merge([]byte(fileInv), e)
	if err != nil {
		t.Fatal(err)
	}
	m := string(merged)
	for _, want := range []string{"hostname: n2", "shell:\n        shell: true", "name: rack-a"} {
		if !strings.Contains(m, want) {
			t.Errorf("merged document lacks %q:\n%s", want, m)
		}
	}
	if strings.Count(m, "52:54:00:00:00:01") != 1 || strings.Contains(m, "52:54:00:00:00:04") || strings.Count(m, "local: true") != 1 {
		t.Errorf("the file's entries must win and invalid ones stay out:\n%s", m)
	}
	if strings.Join(shadowed, ",") != "machines/52:54:00:00:00:01,profiles/demo" {
		t.Errorf("shadowed = %v", shadowed)
	}
	if len(bad) != 1 || !strings.Contains(bad[0], "must be the entry's name") {
		t.Errorf("bad = %v", bad)
	}
	// Sections the file lacks are added.
	merged, _, _, err = Merge([]byte("server: {}\ngroups:\n"), Entries{KindGroups: {"g": []byte("name: g\nprofile: p\n")}, KindProfiles: {"p": []byte("local: true\n")}})
	if err != nil || !strings.Contains(string(merged), "- name: g") || !strings.Contains(string(merged), "p:\n        local: true") {
		t.Errorf("new sections: %v\n%s", err, merged)
	}
}

func TestCheckEntry(t *testing.T) {
	for _, tt := range []struct{ kind, name, yaml, err string }{
		{"machines", "52:54:00:00:00:09", "mac: 52:54:00:00:00:09\n", ""},
		{"hosts", "x", "a: 1\n", "not one of machines, groups, profiles"},
		{"groups", "g", "name: h\n", "must be the entry's name"},
		{"profiles", "p", "- a\n", "must be a YAML mapping"},
		{"profiles", "a/b", "local: true\n", "without '/'"},
		{"profiles", "p", "local: [\n", "p:"},
	} {
		err := CheckEntry(tt.kind, tt.name, []byte(tt.yaml))
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("CheckEntry(%s, %s) = %v, want %q", tt.kind, tt.name, err, tt.err)
		}
	}
}

// TestWatchInventory: a put and a delete in etcd reach the watcher within
// 2 s.
func TestWatchInventory(t *testing.T) {
	c := etcdtest.Start(t, 1)
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	got := make(chan Entries, 10)
	w, err := WatchInventory(cli, "/inv", nil, func(e Entries) { got <- e })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if e := <-got; len(e[KindMachines]) != 0 {
		t.Fatalf("initial entries %v, want none", e)
	}
	next := func(what string) Entries {
		select {
		case e := <-got:
			return e
		case <-time.After(2 * time.Second):
			t.Fatalf("%s not seen within 2 s", what)
		}
		return nil
	}
	start := time.Now()
	cli.Put(t.Context(), InventoryKey("/inv", KindMachines, "52:54:00:00:00:07"), "mac: 52:54:00:00:00:07\n")
	if e := next("put"); string(e[KindMachines]["52:54:00:00:00:07"]) != "mac: 52:54:00:00:00:07\n" {
		t.Fatalf("after put: %v", e)
	}
	t.Logf("put seen after %v", time.Since(start))
	cli.Delete(t.Context(), InventoryKey("/inv", KindMachines, "52:54:00:00:00:07"))
	if e := next("delete"); len(e[KindMachines]) != 0 {
		t.Fatalf("after delete: %v", e)
	}
}
