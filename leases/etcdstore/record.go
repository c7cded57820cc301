package etcdstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/rackboot/rackboot/leases"
)

// record is a lease as it is stored under PREFIX/leases/ip/ADDR: JSON, so
// that etcdctl shows it readably.
type record struct {
	IP       string    `json:"ip"`
	MAC      string    `json:"mac,omitempty"`
	ClientID string    `json:"client_id,omitempty"` // hex
	State    string    `json:"state"`
	Expiry   time.Time `json:"expiry"`
	Hostname string    `json:"hostname,omitempty"`
	// By is the member that wrote the record.
	By string `json:"by,omitempty"`
}

var states = map[string]leases.State{
	"bound": leases.Bound, "released": leases.Released, "expired": leases.Expired, "declined": leases.Declined,
}

func encode(l leases.Lease, by string) []byte {
	r := record{IP: l.IP.String(), State: l.State.String(), Expiry: l.Expiry.UTC(), Hostname: l.Hostname, By: by}
	if len(l.MAC) > 0 {
		r.MAC = l.MAC.String()
	}
	if len(l.ClientID) > 0 {
		r.ClientID = hex.EncodeToString(l.ClientID)
	}
	b, _ := json.Marshal(r) // cannot fail: strings and a time
	return b
}

// decode parses a stored record; key is where it was read, for messages.
func decode(key string, b []byte) (leases.Lease, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return leases.Lease{}, fmt.Errorf("%s: %w", key, err)
	}
	var l leases.Lease
	var err error
	if l.IP, err = netip.ParseAddr(r.IP); err != nil || !l.IP.Is4() {
		return leases.Lease{}, fmt.Errorf("%s: ip %q is not an IPv4 address", key, r.IP)
	}
	if r.MAC != "" {
		if l.MAC, err = net.ParseMAC(r.MAC); err != nil {
			return leases.Lease{}, fmt.Errorf("%s: mac: %w", key, err)
		}
	}
	if r.ClientID != "" {
		if l.ClientID, err = hex.DecodeString(r.ClientID); err != nil {
			return leases.Lease{}, fmt.Errorf("%s: client_id: %w", key, err)
		}
	}
	var ok bool
	if l.State, ok = states[r.State]; !ok {
		return leases.Lease{}, fmt.Errorf("%s: state %q is not bound, released, expired or declined", key, r.State)
	}
	l.Expiry, l.Hostname = r.Expiry, r.Hostname
	return l, nil
}
