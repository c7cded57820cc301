package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rackboot/rackboot/cluster"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/leases"
	"github.com/rackboot/rackboot/leases/etcdstore"
	"github.com/rackboot/rackboot/leases/storeurl"
)

// clusterComponent joins the member list when server.store is an etcd URL
// (docs/cluster.md); with the write-ahead log it does nothing. The DHCP
// components start after it and answer only the clients it owns.
type clusterComponent struct {
	d       *daemon
	target  storeurl.Target
	tls     *tls.Config
	cli     *clientv3.Client
	member  *cluster.Membership
	skipped atomic.Uint64 // requests of clients other members answer
	// shared is the etcd lease store once the DHCP component opened it.
	shared atomic.Pointer[etcdstore.Store]
	// inventory follows the inventory entries in etcd; entries holds
	// the latest.
	inventory *cluster.InventoryWatch
	entries   atomic.Pointer[cluster.Entries]
	admin     *sharedAdmin // the admin API's entries in etcd
}

func newClusterComponent(d *daemon) *clusterComponent { return &clusterComponent{d: d} }

func (c *clusterComponent) Name() string { return "cluster" }

// enabled reports whether this daemon shares its work through etcd.
func (c *clusterComponent) enabled() bool { return c.d.cfg.Server.IsEtcd() }

func (c *clusterComponent) Start(context.Context, context.CancelCauseFunc) (err error) {
	if !c.enabled() {
		return nil
	}
	s := c.d.cfg.Server
	if c.target, err = storeurl.Parse(s.Store); err != nil {
		return err
	}
	if t := s.StoreTLS; t != nil {
		if c.tls, err = (etcdstore.TLSFiles{CA: t.CA, Cert: t.Cert, Key: t.Key}).Load(); err != nil {
			return fmt.Errorf("server.%w", err)
		}
	}
	if c.cli, err = etcdstore.Client(c.target, c.tls, 0); err != nil {
		return err
	}
	cc := c.d.cfg.Cluster
	c.member, err = cluster.Join(cluster.Config{
		Client: c.cli, Prefix: c.target.Prefix, Log: c.d.log, Takeover: time.Duration(cc.Takeover),
		Self: cluster.Member{Name: cc.Member, Addr: c.d.server.Addr.String()},
	})
	if err != nil {
		c.cli.Close()
		return fmt.Errorf("%s: %w", c.target, err)
	}
	c.d.log.WithField("member", cc.Member).WithField("store", c.target.String()).
		WithField("buckets", c.member.Buckets()).Info("cluster: joined")
	if err := c.d.metrics.AddGauges("cluster", c.gauges); err != nil {
		return err
	}
	if err := c.shareAdmin(); err != nil {
		return err
	}
	return c.watchInventory()
}

// watchInventory applies the inventory entries in etcd: each change
// reloads the inventory file with them added (the file wins for what it
// names), within the watch's delay.
func (c *clusterComponent) watchInventory() error {
	if c.d.reload == nil {
		return nil
	}
	c.d.reload.setMerge(c.mergeInventory)
	w, err := cluster.WatchInventory(c.cli, c.target.Prefix, c.d.log, func(e cluster.Entries) {
		c.entries.Store(&e)
		c.d.reload.reload()
	})
	if err != nil {
		return err
	}
	c.inventory = w
	return nil
}

// mergeInventory adds the etcd entries to the file's document.
func (c *clusterComponent) mergeInventory(data []byte) ([]byte, error) {
	e := c.entries.Load()
	if e == nil {
		return data, nil
	}
	merged, shadowed, bad, err := cluster.Merge(data, *e)
	if err != nil {
		return nil, fmt.Errorf("adding the inventory entries from etcd: %w", err)
	}
	log := c.d.log.WithField("store", c.target.String())
	if len(shadowed) > 0 {
		log.WithField("entries", strings.Join(shadowed, ",")).Info("inventory: etcd entries the file also names, the file's kept")
	}
	if len(bad) > 0 {
		log.WithField("problems", strings.Join(bad, "; ")).Warn("inventory: invalid etcd entries left out")
	}
	return merged, nil
}

func (c *clusterComponent) gauges() map[string]uint64 {
	return map[string]uint64{"buckets": uint64(c.member.Buckets()), "members": uint64(len(c.member.Live())),
		"skipped_requests": c.skipped.Load()}
}

// Stop leaves the member list (the others take this member's buckets at
// once) and closes the connection.
func (c *clusterComponent) Stop(context.Context) {
	if c.member == nil {
		return
	}
	if c.inventory != nil {
		c.inventory.Close()
	}
	if c.admin != nil {
		c.admin.close()
	}
	if err := c.member.Close(); err != nil {
		c.d.log.WithError(err).Warn("cluster: leaving")
	}
	c.cli.Close()
}

// filter wraps a DHCP responder so that it answers only this member's
// clients; without a cluster it returns r.
func (c *clusterComponent) filter(r dhcpwire.Responder) dhcpwire.Responder {
	if c.member == nil {
		return r
	}
	return cluster.Filter(r, c.member, &c.skipped)
}

// prefer is the pools' preference: the addresses whose RFC 3074 bucket
// this member owns, so that members rarely offer one address twice.
func (c *clusterComponent) prefer() func(netip.Addr) bool {
	if c.member == nil {
		return nil
	}
	return func(a netip.Addr) bool { return c.member.Owns(cluster.Hash(a.AsSlice())) }
}

// openStore opens the lease store server.store names: the write-ahead log
// in data_dir by default, else the shared etcd store.
func (c *clusterComponent) openStore() (leases.Store, *etcdstore.Store, error) {
	if !c.enabled() {
		st, err := leases.Open(c.d.cfg.Server.DataDir)
		return st, nil, err
	}
	st, err := etcdstore.Open(etcdstore.Config{Target: c.target, TLS: c.tls, Member: c.d.cfg.Cluster.Member, Log: c.d.log})
	if err != nil {
		return nil, nil, err
	}
	if err := c.d.metrics.Add("store", st.Metrics.Snapshot); err != nil {
		st.Close()
		return nil, nil, err
	}
	if err := c.d.metrics.AddGauges("store", st.Metrics.Gauges); err != nil {
		st.Close()
		return nil, nil, err
	}
	c.shared.Store(st)
	return st, st, nil
}

// storeStatus is the "store" part of GET /api/v1/status.
type storeStatus struct {
	Kind            string `json:"kind"` // wal | etcd
	Where           string `json:"where"`
	Degraded        bool   `json:"degraded"`
	PendingRenewals uint64 `json:"pending_renewals"`
}

type memberStatus struct {
	Member  string           `json:"member"`
	Buckets int              `json:"buckets"`
	Members []cluster.Member `json:"members"`
}

// clusterStatus reports the store and the cluster for GET /api/v1/status.
func (d *daemon) clusterStatus() (storeStatus, *memberStatus) {
	st := storeStatus{Kind: "wal", Where: d.cfg.Server.DataDir}
	if d.cluster == nil {
		return st, nil
	}
	if d.cfg.Server.IsEtcd() {
		st = storeStatus{Kind: "etcd", Where: d.cfg.Server.Store}
		if s := d.cluster.shared.Load(); s != nil {
			st.Degraded = s.Degraded()
			st.PendingRenewals = s.Metrics.Gauges()["pending_renewals"]
		}
	}
	if m := d.cluster.member; m != nil {
		return st, &memberStatus{Member: d.cfg.Cluster.Member, Buckets: m.Buckets(), Members: m.Live()}
	}
	return st, nil
}
