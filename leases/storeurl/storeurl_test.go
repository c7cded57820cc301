package storeurl

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		hosts  []string
		prefix string
		err    string
	}{
		{in: "etcd://10.0.0.1:2379", hosts: []string{"10.0.0.1:2379"}, prefix: "/rackboot"},
		{in: "etcd://a,b:2381,c/lab/rack1", hosts: []string{"a:2379", "b:2381", "c:2379"}, prefix: "/lab/rack1"},
		{in: "etcd://[::1]:2379/x", hosts: []string{"[::1]:2379"}, prefix: "/x"},
		{in: "etcd://etcd-1.example.org", hosts: []string{"etcd-1.example.org:2379"}, prefix: "/rackboot"},
		{in: "http://a:2379", err: "not an etcd:// URL"},
		{in: "etcd://", err: "no etcd host"},
		{in: "etcd:///p", err: "no etcd host"},
		{in: "etcd://a,,b", err: "empty host"},
		{in: "etcd://a:0", err: "port \"0\""},
		{in: "etcd://a:99999", err: "port \"99999\""},
		{in: "etcd://a:b", err: "port \"b\""},
		{in: "etcd://a/", err: "empty key prefix"},
		{in: "etcd://a/p/", err: "empty path segment"},
		{in: "etcd://a/p q", err: "' ' is not allowed"},
		{in: "etcd://a b", err: "' ' is not allowed in a host"},
		{in: "etcd://::1", err: "IPv6"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(got.Hosts, tt.hosts) || got.Prefix != tt.prefix {
			t.Errorf("Parse(%q) = %v %q, want %v %q", tt.in, got.Hosts, got.Prefix, tt.hosts, tt.prefix)
		}
		again, err := Parse(got.String())
		if err != nil || !slices.Equal(again.Hosts, got.Hosts) || again.Prefix != got.Prefix {
			t.Errorf("Parse(%q).String() = %q does not parse back the same: %v %v", tt.in, got.String(), again, err)
		}
	}
	if eps := (Target{Hosts: []string{"a:1"}}).Endpoints(true); eps[0] != "https://a:1" {
		t.Errorf("secure endpoints = %v, want https://a:1", eps)
	}
}

// FuzzParse: the parser never panics, and what it accepts prints back
// to a URL that parses to the same target.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"etcd://a:2379", "etcd://a,b/p/q", "etcd://[::1]:1/x", "etcd://", "etcd://a:/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(got.String())
		if err != nil || !slices.Equal(again.Hosts, got.Hosts) || again.Prefix != got.Prefix {
			t.Fatalf("%q parsed to %v, printed %q, parsed back to %v (%v)", s, got, got.String(), again, err)
		}
	})
}
