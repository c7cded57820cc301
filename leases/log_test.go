package leases

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func lease(i int, s State) Lease {
	return Lease{
		IP:       netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		MAC:      net.HardwareAddr{0x52, 0x54, 0, 0, byte(i >> 8), byte(i)},
		State:    s,
		Expiry:   time.Unix(1_800_000_000+int64(i), 0),
		Hostname: fmt.Sprintf("host%d", i),
	}
}

func equal(a, b Lease) bool {
	return a.IP == b.IP && bytes.Equal(a.MAC, b.MAC) && bytes.Equal(a.ClientID, b.ClientID) &&
		a.State == b.State && a.Expiry.Equal(b.Expiry) && a.Hostname == b.Hostname
}

func TestRecordRoundTrip(t *testing.T) {
	tests := []Lease{
		lease(1, Bound),
		{IP: netip.MustParseAddr("192.0.2.9"), ClientID: []byte{1, 2, 3}, State: Declined, Expiry: time.Unix(5, 0)},
		{IP: netip.MustParseAddr("192.0.2.10"), MAC: net.HardwareAddr{1, 2, 3, 4, 5, 6}, State: Released, Expiry: time.Unix(0, 0), Hostname: string(bytes.Repeat([]byte("x"), 255))},
	}
	for _, want := range tests {
		b := appendRecord(nil, want)
		var got []Lease
		n, err := readRecords(bytes.NewReader(b), func(l Lease) { got = append(got, l) })
		if err != nil || n != int64(len(b)) || len(got) != 1 || !equal(got[0], want) {
			t.Errorf("round trip of %+v: got %+v (n=%d of %d, err %v)", want, got, n, len(b), err)
		}
	}
}

// TestReadStopsAtTornRecord: a record cut short or damaged by a crash ends
// the log; the records before it are kept.
func TestReadStopsAtTornRecord(t *testing.T) {
	whole := appendRecord(appendRecord(nil, lease(1, Bound)), lease(2, Bound))
	first := len(appendRecord(nil, lease(1, Bound)))
	for cut := first; cut < len(whole); cut++ {
		var got []Lease
		n, err := readRecords(bytes.NewReader(whole[:cut]), func(l Lease) { got = append(got, l) })
		if err != nil || len(got) != 1 || n != int64(first) {
			t.Fatalf("cut at %d: %d records, n=%d, err %v; want 1 record, n=%d", cut, len(got), n, err, first)
		}
	}
	bad := bytes.Clone(whole)
	bad[len(bad)-1] ^= 0xff
	var got []Lease
	readRecords(bytes.NewReader(bad), func(l Lease) { got = append(got, l) })
	if len(got) != 1 {
		t.Errorf("damaged second record: read %d records, want 1", len(got))
	}
}

func TestLogPersistsAcrossReopen(t *testing.T) {
	dir, l := openTemp(t)
	for i := range 10 {
		if err := l.Allocate(lease(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Release(lease(3, 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Allocate(lease(11, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Allocate after Close: err %v, want ErrClosed", err)
	}
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, _ := l.List()
	if len(got) != 10 {
		t.Fatalf("after reopen: %d leases, want 10", len(got))
	}
	for i, g := range got {
		want := lease(i, Bound)
		if i == 3 {
			want.State = Released
		}
		if !equal(g, want) {
			t.Errorf("lease %d: got %+v, want %+v", i, g, want)
		}
	}
}

// TestLogGroupCommit: concurrent changes share syncs, and every one that
// returned is in the file a reader sees, while the store is open.
// allocateConcurrently has writers goroutines allocate each leases apiece
// (lease(0) to lease(writers*each-1)) and returns when all are done.
func allocateConcurrently(t *testing.T, l *Log, writers, each int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.Allocate(lease(w*each+i, 0)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestLogGroupCommit(t *testing.T) {
	dir, l := openTemp(t)
	defer l.Close()
	const writers, each = 32, 50
	allocateConcurrently(t, l, writers, each)
	if s := l.Syncs(); s >= writers*each {
		t.Errorf("%d syncs for %d changes: no group commit", s, writers*each)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*each {
		t.Errorf("Read while open: %d leases, want %d", len(got), writers*each)
	}
}

// TestLogSyncGap: under a steady stream of commits the writer syncs at
// most once per syncGap (plus the first), and every commit is still
// durable when Allocate returns.
func TestLogSyncGap(t *testing.T) {
	dir, l := openTemp(t)
	defer l.Close()
	l.syncGap = 40 * time.Millisecond
	const writers, each = 8, 20
	start := time.Now()
	allocateConcurrently(t, l, writers, each)
	took := time.Since(start)
	if most := uint64(took/l.syncGap) + 1; l.Syncs() > most {
		t.Errorf("%d syncs in %v with a gap of %v: at most %d", l.Syncs(), took, l.syncGap, most)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*each {
		t.Errorf("%d leases on disk after every Allocate returned, want %d", len(got), writers*each)
	}
}

func TestLogCompacts(t *testing.T) {
	dir, l := openTemp(t)
	var wg sync.WaitGroup
	for range 3000 {
		wg.Add(1)
		l.Commit(lease(1, Bound), func(err error) {
			if err != nil {
				t.Error(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	l.Close()
	st, err := os.Stat(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	one := int64(len(appendRecord(nil, lease(1, Bound))))
	if st.Size() > 1100*one {
		t.Errorf("log is %d bytes after 3000 renewals of one lease; want it compacted (record %d bytes)", st.Size(), one)
	}
	got, _ := Read(dir)
	if len(got) != 1 || !equal(got[0], lease(1, Bound)) {
		t.Errorf("after compaction: %+v", got)
	}
}

func TestOpenLocked(t *testing.T) {
	dir, l := openTemp(t)
	defer l.Close()
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: err %v, want ErrLocked", err)
	}
}

func FuzzReadRecords(f *testing.F) {
	f.Add(appendRecord(appendRecord(nil, lease(1, Bound)), lease(2, Expired)))
	f.Add([]byte{0, 0, 0, 200, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := readRecords(bytes.NewReader(b), func(Lease) {})
		if err != nil || n > int64(len(b)) {
			t.Fatalf("n=%d of %d, err %v", n, len(b), err)
		}
	})
}

// openTemp opens a log in a new temporary directory; the caller closes it.
func openTemp(t *testing.T) (string, *Log) {
	t.Helper()
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, l
}
