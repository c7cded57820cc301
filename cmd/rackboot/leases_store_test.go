package main

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rackboot/rackboot/internal/etcdtest"
	"github.com/rackboot/rackboot/leases"
)

// execute runs rackboot with args through the root command (which binds
// the flags).
func execute(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

// TestMoveLeasesToEtcd: the WAL's leases exported and imported into etcd
// list the same there; importing them again over another client's
// binding reports the conflict and keeps etcd's record.
func TestMoveLeasesToEtcd(t *testing.T) {
	c := etcdtest.Start(t, 1)
	url := c.URL("/move")
	dir := t.TempDir()
	st, err := leases.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	st.Allocate(leases.Lease{IP: netip.MustParseAddr("192.0.2.100"), MAC: net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}, Expiry: exp, Hostname: "web1"})
	st.Allocate(leases.Lease{IP: netip.MustParseAddr("192.0.2.102"), ClientID: []byte{1, 2, 3}, Expiry: exp})
	st.Decline(leases.Lease{IP: netip.MustParseAddr("192.0.2.101"), Expiry: exp})
	st.Close()

	exported, _, err := execute(t, "", "leases", "export", "--data-dir", dir)
	if err != nil || strings.Count(exported, "\n") != 3 {
		t.Fatalf("export: %v\n%s", err, exported)
	}
	_, msg, err := execute(t, exported, "leases", "import", "--store", url)
	if err != nil || !strings.Contains(msg, "imported 3 of 3") {
		t.Fatalf("import: %v (%s)", err, msg)
	}
	fromEtcd, _, err := execute(t, "", "leases", "export", "--store", url)
	if err != nil || fromEtcd != exported {
		t.Fatalf("etcd lists (err %v):\n%s\nwant what the WAL held:\n%s", err, fromEtcd, exported)
	}

	other := strings.Replace(strings.Split(exported, "\n")[0], "52:54:00:01:02:03", "52:54:00:09:09:09", 1) + "\n"
	_, msg, err = execute(t, other, "leases", "import", "--store", url)
	if err == nil || !strings.Contains(err.Error(), "bound to another client") || !strings.Contains(msg, "imported 0 of 1") {
		t.Fatalf("importing another client's binding of a bound address: %v (%s)", err, msg)
	}
	again, _, _ := execute(t, "", "leases", "--json", "--store", url)
	if again != exported {
		t.Errorf("etcd changed by a refused import:\n%s", again)
	}
}

func TestReadLeasesJSONErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"ip":"10.0.0.1","state":"bound"}` + "\n" + `{"ip":"x","state":"bound"}`, `in:2: ip "x" is not an IPv4 or IPv6 address`},
		{`{"ip":"10.0.0.1","state":"gone"}`, `in:1: state "gone" is not bound, released, expired or declined`},
		{`{"ip":"10.0.0.1","state":"bound","mac":"zz"}`, `in:1: mac: address zz: invalid MAC address`},
		{`{"ip":"10.0.0.1","state":"bound","client_id":"q"}`, `in:1: client_id "q": not hex`},
		{`{"ip":"10.0.0.1","state":"bound","extra":1}`, `in:1: json: unknown field "extra"`},
	} {
		_, err := readLeasesJSON(strings.NewReader(tt.in), "in")
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %s", tt.in, err, tt.want)
		}
	}
}

// FuzzReadLeasesJSON: an import file is user input; what parses writes
// back to lines that parse to the same leases.
func FuzzReadLeasesJSON(f *testing.F) {
	f.Add(`{"mac":"52:54:00:01:02:03","ip":"192.0.2.100","state":"bound","expiry":"2026-05-01T12:00:00Z","hostname":"web1"}`)
	f.Add(`{"ip":"10.0.0.1","state":"declined","client_id":"0102"}` + "\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		ls, err := readLeasesJSON(strings.NewReader(in), "in")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := writeLeasesJSON(&buf, ls); err != nil {
			t.Fatal(err)
		}
		again, err := readLeasesJSON(&buf, "again")
		if err != nil || len(again) != len(ls) {
			t.Fatalf("%d leases wrote back to %q: %d, %v", len(ls), buf.String(), len(again), err)
		}
		for i := range ls {
			if again[i].IP != ls[i].IP || again[i].Key() != ls[i].Key() || again[i].State != ls[i].State {
				t.Fatalf("lease %d: %+v became %+v", i, ls[i], again[i])
			}
		}
	})
}
