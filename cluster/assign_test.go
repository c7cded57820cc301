package cluster

import (
	"fmt"
	"slices"
	"testing"
)

func TestAssign(t *testing.T) {
	tests := []struct {
		name    string
		members []string
		// min and max buckets each member must get
		min, max int
	}{
		{"none", nil, 0, 0},
		{"one", []string{"a"}, 256, 256},
		{"two", []string{"rb-1", "rb-2"}, 100, 156},
		{"two, duplicates ignored", []string{"rb-1", "rb-2", "rb-1"}, 100, 156},
		{"three", []string{"x", "y", "z"}, 60, 110},
		{"four", []string{"rack1-a", "rack1-b", "rack2-a", "rack2-b"}, 40, 90},
	}
	for _, tt := range tests {
		a := Assign(tt.members)
		counts := a.Count()
		total := 0
		for _, m := range slices.Compact(slices.Sorted(slices.Values(tt.members))) {
			n := counts[m]
			total += n
			if n < tt.min || n > tt.max {
				t.Errorf("%s: %s has %d buckets, want %d..%d", tt.name, m, n, tt.min, tt.max)
			}
		}
		if len(tt.members) > 0 && total != 256 {
			t.Errorf("%s: %d buckets assigned, want 256", tt.name, total)
		}
		if len(tt.members) == 0 && a != (Assignment{}) {
			t.Errorf("%s: buckets assigned with no member", tt.name)
		}
	}
}

// TestAssignIsStable: every member computes the same assignment whatever
// order it lists the members in; when one leaves only its buckets move,
// and when one joins only buckets that move to it move.
func TestAssignIsStable(t *testing.T) {
	all := []string{"a", "b", "c", "d"}
	base := Assign(all)
	if Assign([]string{"d", "b", "a", "c"}) != base {
		t.Fatal("order of the member list changed the assignment")
	}
	for _, gone := range all {
		var rest []string
		for _, m := range all {
			if m != gone {
				rest = append(rest, m)
			}
		}
		after := Assign(rest)
		for b := range Buckets {
			if base[b] != gone && after[b] != base[b] {
				t.Errorf("%s left: bucket %d moved from %s to %s", gone, b, base[b], after[b])
			}
			if base[b] == gone && after[b] == gone {
				t.Errorf("%s left but still has bucket %d", gone, b)
			}
		}
	}
	grown := Assign(append(all, "e"))
	for b := range Buckets {
		if grown[b] != base[b] && grown[b] != "e" {
			t.Errorf("e joined: bucket %d moved from %s to %s", b, base[b], grown[b])
		}
	}
}

func TestOwned(t *testing.T) {
	a := Assign([]string{"a", "b"})
	oa, ob := a.Owned("a"), a.Owned("b")
	for b := range Buckets {
		if oa[b] == ob[b] {
			t.Fatalf("bucket %d: owned by a %v, by b %v; want exactly one", b, oa[b], ob[b])
		}
	}
	if fmt.Sprint(a.Owned("c")) != fmt.Sprint([Buckets]bool{}) {
		t.Error("a non-member owns buckets")
	}
}
