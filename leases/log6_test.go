package leases

import (
	"bytes"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecordV1Unchanged: an IPv4 lease is still written as the version 1
// record older releases read, byte for byte.
func TestRecordV1Unchanged(t *testing.T) {
	l := Lease{IP: netip.MustParseAddr("192.0.2.9"), MAC: net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56},
		State: Bound, Expiry: time.Unix(0x01020304, 0), Hostname: "n1"}
	got := hex.EncodeToString(appendRecord(nil, l)[headerLen:])
	want := "0101" + "c0000209" + "0000000001020304" + "06525400123456" + "00" + "026e31"
	if got != want {
		t.Errorf("payload = %s, want %s", got, want)
	}
}

// TestRecordV6RoundTrip: IPv6 leases use version 2 records with the whole
// address.
func TestRecordV6RoundTrip(t *testing.T) {
	want := Lease{IP: netip.MustParseAddr("2001:db8:1::150"), ClientID: []byte("duid+iaid"),
		MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, State: Bound, Expiry: time.Unix(99, 0), Hostname: "h"}
	b := appendRecord(nil, want)
	if b[headerLen] != recordVersion6 {
		t.Fatalf("version %d, want %d", b[headerLen], recordVersion6)
	}
	var got []Lease
	n, err := readRecords(bytes.NewReader(b), func(l Lease) { got = append(got, l) })
	if err != nil || n != int64(len(b)) || len(got) != 1 || !equal(got[0], want) {
		t.Errorf("round trip: got %+v (n=%d of %d, err %v)", got, n, len(b), err)
	}
}

// TestOpen6BesideOpen: the DHCPv4 and DHCPv6 logs open at once in one
// data directory, keep their records in their own files, and Read lists
// both.
func TestOpen6BesideOpen(t *testing.T) {
	dir := t.TempDir()
	l4, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	l6, err := Open6(dir)
	if err != nil {
		t.Fatal(err)
	}
	v4 := Lease{IP: netip.MustParseAddr("192.0.2.9"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Expiry: time.Unix(50, 0)}
	v6 := Lease{IP: netip.MustParseAddr("2001:db8::9"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, ClientID: []byte{0, 4, 1}, Expiry: time.Unix(60, 0)}
	if err := l4.Allocate(v4); err != nil {
		t.Fatal(err)
	}
	if err := l6.Allocate(v6); err != nil {
		t.Fatal(err)
	}
	if _, err := Open6(dir); err == nil {
		t.Error("a second Open6 of the same directory succeeded")
	}
	if err := l4.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l6.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte{recordVersion6}) && bytes.Contains(b, v6.ClientID) {
		t.Error("leases.wal holds the IPv6 lease")
	}
	ls, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	v4.State, v6.State = Bound, Bound
	if len(ls) != 2 || !equal(ls[0], v4) || !equal(ls[1], v6) {
		t.Errorf("Read = %+v, want the IPv4 then the IPv6 lease", ls)
	}
	re, err := Open6(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if got, _ := re.List(); len(got) != 1 || !equal(got[0], v6) {
		t.Errorf("reopened IPv6 log lists %+v", got)
	}
}
