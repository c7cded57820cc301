package cluster

import (
	"net"
	"testing"
)

func TestMixTableIsAPermutation(t *testing.T) {
	var seen [256]bool
	for i, v := range mixTable {
		if seen[v] {
			t.Fatalf("mixTable[%d] = %d repeats an earlier value", i, v)
		}
		seen[v] = true
	}
}

// TestHash: values worked out of RFC 3074 section 6's C function and
// mixing table by hand (and by a separate script), not by this code.
func TestHash(t *testing.T) {
	tests := []struct {
		key  []byte
		want uint8
	}{
		{nil, 0},                  // no bytes: the length, 0
		{[]byte{0}, 175},          // T[1^0] = T[1]
		{[]byte{1}, 251},          // T[1^1] = T[0]
		{[]byte{0, 0}, 150},       // T[T[2^0]^0] = T[119]
		{[]byte{0xff, 0x01}, 134}, // T[T[2^1]^0xff] = T[215^255] = T[40]
		{[]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}, 156},    // a MAC
		{[]byte{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}, 253}, // its option 61 (type 1 + MAC)
	}
	for _, tt := range tests {
		if got := Hash(tt.key); got != tt.want {
			t.Errorf("Hash(% x) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestClientHash(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	if ClientHash(nil, mac) != Hash(mac) || ClientHash([]byte{}, mac) != Hash(mac) {
		t.Error("without a client identifier the hash must be chaddr's")
	}
	id := []byte{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}
	if ClientHash(id, mac) != Hash(id) {
		t.Error("with a client identifier the hash must be its")
	}
}

// TestHashSpread: consecutive MACs (a rack's worth) fall into many
// buckets, so a split of buckets is a split of clients.
func TestHashSpread(t *testing.T) {
	var per [256]int
	for i := range 4096 {
		per[Hash(net.HardwareAddr{0x52, 0x54, 0, 0, byte(i >> 8), byte(i)})]++
	}
	empty, most := 0, 0
	for _, n := range per {
		if n == 0 {
			empty++
		}
		most = max(most, n)
	}
	if empty > 8 || most > 48 {
		t.Errorf("4096 MACs: %d empty buckets, fullest has %d (want few empty, none over 48)", empty, most)
	}
}
