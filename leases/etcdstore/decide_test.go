package etcdstore

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/rackboot/rackboot/leases"
)

var now = time.Unix(1_900_000_000, 0)

func rec(mac byte, s leases.State, expiry time.Duration) leases.Lease {
	return leases.Lease{IP: netip.MustParseAddr("192.0.2.10"), MAC: net.HardwareAddr{0x52, 0x54, 0, 0, 0, mac}, State: s, Expiry: now.Add(expiry)}
}

func TestDecide(t *testing.T) {
	a, b := byte(1), byte(2)
	tests := []struct {
		name   string
		cur    leases.Lease
		have   bool
		change leases.Lease
		want   action
		down   bool // keepWhileDown
	}{
		{"bind a free address", leases.Lease{}, false, rec(a, leases.Bound, time.Hour), write, false},
		{"renew own binding", rec(a, leases.Bound, time.Minute), true, rec(a, leases.Bound, time.Hour), write, true},
		{"bind another client's live address", rec(b, leases.Bound, time.Minute), true, rec(a, leases.Bound, time.Hour), taken, false},
		{"bind another client's lapsed address", rec(b, leases.Bound, -time.Second), true, rec(a, leases.Bound, time.Hour), write, false},
		{"bind a released address", rec(b, leases.Released, time.Hour), true, rec(a, leases.Bound, time.Hour), write, false},
		{"bind an expired address", rec(b, leases.Expired, time.Hour), true, rec(a, leases.Bound, time.Hour), write, false},
		{"bind a quarantined address", rec(b, leases.Declined, time.Minute), true, rec(a, leases.Bound, time.Hour), taken, false},
		{"bind after the quarantine", rec(b, leases.Declined, -time.Minute), true, rec(a, leases.Bound, time.Hour), write, false},
		{"rebind own lapsed binding while down", rec(a, leases.Bound, -time.Second), true, rec(a, leases.Bound, time.Hour), write, false},
		{"release own", rec(a, leases.Bound, time.Minute), true, rec(a, leases.Released, 0), write, true},
		{"release another's", rec(b, leases.Bound, time.Minute), true, rec(a, leases.Released, 0), noop, true},
		{"release twice", rec(a, leases.Released, 0), true, rec(a, leases.Released, 0), noop, true},
		{"expire own lapsed", rec(a, leases.Bound, -time.Second), true, rec(a, leases.Expired, -time.Second), write, true},
		{"expire own renewed meanwhile", rec(a, leases.Bound, time.Hour), true, rec(a, leases.Expired, -time.Second), noop, true},
		{"expire another's", rec(b, leases.Bound, -time.Second), true, rec(a, leases.Expired, 0), noop, true},
		{"decline a free address", leases.Lease{}, false, rec(a, leases.Declined, time.Hour), write, true},
		{"decline own", rec(a, leases.Bound, time.Hour), true, rec(a, leases.Declined, time.Hour), write, true},
		{"decline another's live binding", rec(b, leases.Bound, time.Hour), true, rec(a, leases.Declined, time.Hour), taken, true},
	}
	for _, tt := range tests {
		if got := decide(tt.cur, tt.have, tt.change, now); got != tt.want {
			t.Errorf("%s: decide = %d, want %d", tt.name, got, tt.want)
		}
		if got := keepWhileDown(tt.cur, tt.have, tt.change, now); got != tt.down {
			t.Errorf("%s: keepWhileDown = %v, want %v", tt.name, got, tt.down)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, l := range []leases.Lease{
		rec(1, leases.Bound, time.Hour),
		{IP: netip.MustParseAddr("10.1.2.3"), ClientID: []byte{1, 0xab, 0}, State: leases.Declined, Expiry: now.UTC(), Hostname: "n1"},
	} {
		got, err := decode("k", encode(l, "m1"))
		if err != nil || got.IP != l.IP || got.MAC.String() != l.MAC.String() || string(got.ClientID) != string(l.ClientID) ||
			got.State != l.State || !got.Expiry.Equal(l.Expiry) || got.Hostname != l.Hostname {
			t.Errorf("round trip of %+v: %+v, %v", l, got, err)
		}
	}
	for _, bad := range []string{`{`, `{"ip":"::1","state":"bound"}`, `{"ip":"1.2.3.4","state":"gone"}`, `{"ip":"1.2.3.4","state":"bound","mac":"zz"}`, `{"ip":"1.2.3.4","state":"bound","client_id":"x"}`} {
		if _, err := decode("PREFIX/leases/ip/1.2.3.4", []byte(bad)); err == nil {
			t.Errorf("decode(%s) accepted it", bad)
		}
	}
}

// FuzzDecode: records come from etcd, which other programs may write.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(encode(rec(1, leases.Bound, time.Hour), "m")))
	f.Add([]byte(`{"ip":"1.2.3.4","state":"declined","client_id":"00ff"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := decode("k", b)
		if err != nil {
			return
		}
		again, err := decode("k", encode(l, ""))
		if err != nil || again.IP != l.IP || again.State != l.State || again.Key() != l.Key() {
			t.Fatalf("decoded %+v does not round-trip: %+v %v", l, again, err)
		}
	})
}
