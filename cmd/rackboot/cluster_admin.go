package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rackboot/rackboot/admin"
)

// sharedAdmin keeps the admin API's entries (machines and profiles added
// over HTTP) in etcd when the store is etcd: one key, PREFIX/admin/entries,
// the entries as JSON, written compare-and-swap so that two members'
// changes never overwrite each other; every member watches it and puts a
// change in force at once (docs/cluster.md#inventory-entries-in-etcd).
type sharedAdmin struct {
	c      *clusterComponent
	store  *admin.Store
	key    string
	mu     sync.Mutex
	rev    int64 // mod revision of the key this member last wrote or applied
	cancel context.CancelFunc
	done   chan struct{}
}

var errAdminRace = errors.New("another member changed the admin entries meanwhile; try again")

// shareAdmin starts sharing the daemon's admin entries; without an admin
// store it does nothing. Entries already in etcd replace the local ones;
// when etcd has none, the local ones are published.
func (c *clusterComponent) shareAdmin() error {
	if c.d.reload == nil || c.d.reload.store == nil {
		return nil
	}
	a := &sharedAdmin{c: c, store: c.d.reload.store, key: c.target.Prefix + "/admin/entries", done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.cli.Get(ctx, a.key)
	if err != nil {
		return fmt.Errorf("cluster: reading %s: %w", a.key, err)
	}
	if len(resp.Kvs) == 1 {
		if err := a.apply(resp.Kvs[0].Value, resp.Kvs[0].ModRevision); err != nil {
			return err
		}
	} else if err := a.save(a.store.Entries()); err != nil {
		return err
	}
	a.store.Share(a.save)
	wctx, wcancel := context.WithCancel(context.Background())
	a.cancel = wcancel
	go a.watch(wctx, resp.Header.Revision)
	c.admin = a
	return nil
}

// save writes e if the key is still at the revision this member knows.
func (a *sharedAdmin) save(e admin.Entries) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := a.c.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(a.key), "=", a.rev)).
		Then(clientv3.OpPut(a.key, string(b))).Commit()
	if err != nil {
		return fmt.Errorf("writing %s: %w", a.key, err)
	}
	if !resp.Succeeded {
		return errAdminRace
	}
	a.rev = resp.Header.Revision
	return nil
}

// apply takes another member's entries at revision rev and reloads.
func (a *sharedAdmin) apply(val []byte, rev int64) error {
	var e admin.Entries
	if err := json.Unmarshal(val, &e); err != nil {
		return fmt.Errorf("cluster: %s is not valid: %w", a.key, err)
	}
	if e.Machines == nil {
		e.Machines = map[string]json.RawMessage{}
	}
	if e.Profiles == nil {
		e.Profiles = map[string]json.RawMessage{}
	}
	a.mu.Lock()
	if rev <= a.rev {
		a.mu.Unlock()
		return nil // this member's own write
	}
	a.rev = rev
	a.mu.Unlock()
	if err := a.store.Replace(e); err != nil {
		a.c.d.log.WithError(err).Warn("cluster: keeping the local copy of the admin entries")
	}
	a.c.d.reload.reload()
	return nil
}

func (a *sharedAdmin) watch(ctx context.Context, rev int64) {
	defer close(a.done)
	for ctx.Err() == nil {
		for resp := range a.c.cli.Watch(ctx, a.key, clientv3.WithRev(rev+1)) {
			if resp.Err() != nil {
				break
			}
			rev = resp.Header.Revision
			for _, ev := range resp.Events {
				if ev.Type != clientv3.EventTypePut {
					continue
				}
				if err := a.apply(ev.Kv.Value, ev.Kv.ModRevision); err != nil {
					a.c.d.log.WithError(err).Warn("cluster: admin entries from etcd refused")
				}
			}
		}
		if ctx.Err() == nil {
			time.Sleep(time.Second)
		}
	}
}

func (a *sharedAdmin) close() {
	a.cancel()
	<-a.done
}
