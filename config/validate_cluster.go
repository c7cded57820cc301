package config

import (
	"os"
	"time"

	"github.com/rackboot/rackboot/leases/storeurl"
)

// Cluster defaults and bounds (docs/cluster.md).
const (
	DefaultTakeover = Duration(5 * time.Second)
	// MinTakeover: the membership lease lasts at least 2 s (etcd's
	// smallest TTL) and its lapse is seen up to about a second later.
	MinTakeover = Duration(3 * time.Second)
	maxTakeover = Duration(10 * time.Minute)
)

// IsEtcd reports whether the inventory keeps its leases in etcd.
func (s Server) IsEtcd() bool { return storeurl.IsURL(s.Store) }

// cluster checks server.store, server.store_tls and the cluster section.
func (v *validator) cluster() {
	s := &v.cfg.Server
	etcd := s.Store != ""
	if etcd {
		if _, err := storeurl.Parse(s.Store); err != nil {
			v.errorf("server.store", "%v (leave it out for the write-ahead log in data_dir)", err)
		}
	}
	if t := s.StoreTLS; t != nil {
		if !etcd {
			v.errorf("server.store_tls", "needs server.store: etcd://…")
		}
		if (t.Cert == "") != (t.Key == "") {
			v.errorf("server.store_tls", "cert and key go together (got cert %q, key %q)", t.Cert, t.Key)
		}
		if t.CA == "" && t.Cert == "" {
			v.errorf("server.store_tls", "names no file (ca, cert, key)")
		}
	}
	c := &v.cfg.Cluster
	if !etcd && (c.Member != "" || c.Takeover != 0) {
		v.errorf("cluster", "needs server.store: etcd://… (instances share their work through etcd)")
	}
	switch {
	case c.Takeover == 0:
		c.Takeover = DefaultTakeover
	case c.Takeover < MinTakeover || c.Takeover > maxTakeover:
		v.errorf("cluster.takeover", "%s is out of range (%s-%s; default %s)", c.Takeover, MinTakeover, maxTakeover, DefaultTakeover)
	}
	if c.Member == "" {
		c.Member, _ = os.Hostname()
	}
	for _, r := range c.Member {
		if !(r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			v.errorf("cluster.member", "%q: %q is not allowed (letters, digits, '-', '_', '.')", c.Member, r)
			break
		}
	}
}
