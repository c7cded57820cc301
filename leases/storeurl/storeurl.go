// Package storeurl parses the etcd store URL of --store and server.store
// (docs/cluster.md), without pulling in the etcd client.
package storeurl

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPrefix is the key prefix when the URL names none.
const DefaultPrefix = "/rackboot"

// DefaultPort is the etcd client port taken when a host names none.
const DefaultPort = "2379"

// Target is a parsed store URL: the members' host:port and the key prefix
// everything of this rackboot cluster lives under.
type Target struct {
	Hosts  []string
	Prefix string
}

// IsURL reports whether s names an etcd store (rather than a folder).
func IsURL(s string) bool { return strings.HasPrefix(s, "etcd://") }

// Parse parses etcd://host[:port][,host[:port]…][/prefix]. The port
// defaults to 2379 and the prefix to /rackboot; a prefix is one or more
// path segments of letters, digits, '-', '_' and '.', without a trailing
// slash.
func Parse(s string) (Target, error) {
	rest, ok := strings.CutPrefix(s, "etcd://")
	if !ok {
		return Target{}, fmt.Errorf("store %q: not an etcd:// URL", s)
	}
	hosts, prefix, hasPrefix := strings.Cut(rest, "/")
	t := Target{Prefix: DefaultPrefix}
	if hasPrefix {
		if err := checkPrefix(prefix); err != nil {
			return Target{}, fmt.Errorf("store %q: %w", s, err)
		}
		t.Prefix = "/" + prefix
	}
	if hosts == "" {
		return Target{}, fmt.Errorf("store %q: no etcd host", s)
	}
	for _, h := range strings.Split(hosts, ",") {
		hp, err := hostPort(h)
		if err != nil {
			return Target{}, fmt.Errorf("store %q: %w", s, err)
		}
		t.Hosts = append(t.Hosts, hp)
	}
	return t, nil
}

// Endpoints are the client URLs of the hosts, https:// when secure.
func (t Target) Endpoints(secure bool) []string {
	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	out := make([]string, len(t.Hosts))
	for i, h := range t.Hosts {
		out[i] = scheme + h
	}
	return out
}

// String is the URL again, in its canonical form.
func (t Target) String() string {
	return "etcd://" + strings.Join(t.Hosts, ",") + t.Prefix
}

func hostPort(h string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("empty host in the host list")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		if strings.Contains(h, "[") || strings.Count(h, ":") > 1 && !strings.HasPrefix(h, "[") {
			return "", fmt.Errorf("host %q: %v (write IPv6 addresses as [addr]:port)", h, err)
		}
		host, port = h, DefaultPort
	}
	if host == "" {
		return "", fmt.Errorf("host %q: no host name", h)
	}
	for _, r := range host {
		if !(r == '.' || r == '-' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", fmt.Errorf("host %q: %q is not allowed in a host name", h, r)
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("host %q: port %q is not a number from 1 to 65535", h, port)
	}
	return net.JoinHostPort(host, port), nil
}

func checkPrefix(p string) error {
	if p == "" {
		return fmt.Errorf("empty key prefix after '/'")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			return fmt.Errorf("key prefix %q: empty path segment", "/"+p)
		}
		for _, r := range seg {
			if !(r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Errorf("key prefix %q: %q is not allowed (letters, digits, '-', '_', '.')", "/"+p, r)
			}
		}
	}
	return nil
}
