package cluster

import (
	"hash/fnv"
	"slices"
)

// Buckets is how many hash buckets RFC 3074 has (one per hash value).
const Buckets = 256

// Assignment says which member answers each bucket; "" when no member is
// live.
type Assignment [Buckets]string

// Assign spreads the 256 buckets over the live members by rendezvous
// hashing: each bucket goes to the member with the highest score
// fnv64a(member, bucket), mixed. Every member that computes it from the same
// member list gets the same answer; when a member leaves, only its buckets
// move (to the others, spread evenly), and when one joins it takes about
// 1/n from each.
func Assign(members []string) Assignment {
	var a Assignment
	ms := slices.Clone(members)
	slices.Sort(ms)
	ms = slices.Compact(ms)
	for b := range Buckets {
		var best uint64
		for _, m := range ms {
			if s := score(m, uint8(b)); a[b] == "" || s > best {
				a[b], best = m, s
			}
		}
	}
	return a
}

func score(member string, bucket uint8) uint64 {
	h := fnv.New64a()
	h.Write([]byte(member))
	h.Write([]byte{0, bucket})
	return mix(h.Sum64())
}

// mix is splitmix64's finalizer: FNV's high bits change little between
// names that differ in their last byte; this spreads them.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Owned returns, for member, which buckets are its.
func (a Assignment) Owned(member string) [Buckets]bool {
	var o [Buckets]bool
	for b, m := range a {
		o[b] = m == member
	}
	return o
}

// Count returns how many buckets each member has.
func (a Assignment) Count() map[string]int {
	n := map[string]int{}
	for _, m := range a {
		if m != "" {
			n[m]++
		}
	}
	return n
}
