// Package etcdstore is a leases.Store on etcd v3 that several rackboot
// instances share (docs/cluster.md). Each address is one key,
// PREFIX/leases/ip/ADDR, holding the lease as JSON; each client one key,
// PREFIX/leases/client/HEX(client key), holding its address. Every change
// is a transaction that compares the address key's modification revision
// with the one this instance last saw, so two instances can never bind one
// address to two clients: the loser's transaction fails, it reads the
// winner's record and refuses its own binding (leases.ErrTaken).
//
// Every instance keeps a mirror of all address keys, loaded at Open and
// kept current by a watch; the mirror answers List and Taken and supplies
// the revisions the transactions compare. Changes queued while a
// transaction runs go into the next one (group commit, up to maxBatch
// leases per transaction).
//
// Expiry works while any instance is alive: each instance's sweeper marks
// bindings past their expiry as expired, compare-and-swap again, so the
// first one wins and the others see its record.
//
// When etcd cannot be reached the store is degraded: renewals of bindings
// the mirror shows for the same client are accepted and kept to be written
// when etcd returns; new bindings fail with leases.ErrUnavailable.
package etcdstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/rackboot/rackboot/leases"
	"github.com/rackboot/rackboot/leases/storeurl"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout       = 2 * time.Second
	DefaultSweepInterval = 10 * time.Second
	// maxBatch leases per transaction: each lease is two puts, and etcd
	// refuses transactions of more than 128 operations by default.
	maxBatch = 60
	// maxAttempts: a batch whose compares keep failing is retried this
	// often, each time with the records that beat it, before its leases
	// fail with errContended.
	maxAttempts = 8
)

var errContended = errors.New("lease store: address changed by other servers on every attempt")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("lease store closed")

// Config is what a Store is opened with.
type Config struct {
	Target storeurl.Target
	// TLS, when set, is used for the client connections (https).
	TLS *tls.Config
	// Member names this instance in the records it writes.
	Member string
	Log    logrus.FieldLogger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Timeout bounds each request to etcd.
	Timeout time.Duration
	// SweepInterval is how often expired bindings are marked expired.
	SweepInterval time.Duration
}

// TLSFiles are the PEM files of server.store_tls.
type TLSFiles struct{ CA, Cert, Key string }

// Load builds a client TLS configuration: the CA that signed the etcd
// members' certificates and this instance's client certificate.
func (f TLSFiles) Load() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("store_tls.ca: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("store_tls.ca: %s holds no PEM certificate", f.CA)
		}
	}
	if f.Cert != "" || f.Key != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("store_tls.cert/key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// entry is the mirror's copy of one address key.
type entry struct {
	lease leases.Lease
	rev   int64 // the key's mod revision; 0: the key does not exist
}

// item is one queued change.
type item struct {
	l    leases.Lease
	done func(error)
	// sweep: write only if the binding is still past its expiry.
	sweep bool
}

// Metrics are the store's running totals.
type Metrics struct {
	Txns              atomic.Uint64 // transactions sent
	Conflicts         atomic.Uint64 // transactions whose compares failed
	Taken             atomic.Uint64 // bindings refused: another client's address
	Errors            atomic.Uint64 // requests that failed to reach etcd
	DegradedRenewals  atomic.Uint64 // renewals accepted while etcd was unreachable
	RefusedWhileDown  atomic.Uint64 // new bindings refused while etcd was unreachable
	SweptExpired      atomic.Uint64 // bindings this instance marked expired
	DegradedEpisodes  atomic.Uint64 // times the store became degraded
	WatchReloads      atomic.Uint64 // full reloads after a broken watch
	degradedNow       atomic.Uint64
	pendingRenewalsNo atomic.Uint64
}

// Snapshot returns the totals by name (rackboot_store_*_total in /metrics).
func (m *Metrics) Snapshot() map[string]uint64 {
	return map[string]uint64{
		"txns": m.Txns.Load(), "conflicts": m.Conflicts.Load(), "taken": m.Taken.Load(),
		"errors": m.Errors.Load(), "degraded_renewals": m.DegradedRenewals.Load(),
		"refused_while_down": m.RefusedWhileDown.Load(), "swept_expired": m.SweptExpired.Load(),
		"degraded_episodes": m.DegradedEpisodes.Load(), "watch_reloads": m.WatchReloads.Load(),
	}
}

// Gauges returns the store's levels: degraded (1 while etcd is
// unreachable) and pending_renewals (changes kept for etcd meanwhile).
func (m *Metrics) Gauges() map[string]uint64 {
	return map[string]uint64{"degraded": m.degradedNow.Load(), "pending_renewals": m.pendingRenewalsNo.Load()}
}

// Store is the etcd lease store. Safe for concurrent use.
type Store struct {
	cli     *clientv3.Client
	keys    keys
	member  string
	log     logrus.FieldLogger
	now     func() time.Time
	timeout time.Duration

	mu     sync.Mutex
	mirror map[netip.Addr]entry
	// byClient: the address each client was last bound to in the mirror
	// (checked against the mirror on use).
	byClient map[string]netip.Addr
	queue    []item
	busy     map[netip.Addr]bool         // addresses of the batches in flight
	pending  map[netip.Addr]leases.Lease // accepted while degraded, not yet in etcd
	closed   bool

	degraded atomic.Bool
	wake     chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	Metrics  Metrics
}

var (
	_ leases.Store     = (*Store)(nil)
	_ leases.Committer = (*Store)(nil)
	_ leases.Shared    = (*Store)(nil)
)

// keys names the keys under one prefix.
type keys struct{ prefix string }

func (k keys) ipPrefix() string       { return k.prefix + "/leases/ip/" }
func (k keys) ip(a netip.Addr) string { return k.ipPrefix() + a.String() }
func (k keys) client(l leases.Lease) string {
	return k.prefix + "/leases/client/" + hex.EncodeToString([]byte(l.Key()))
}
func (k keys) addrOf(key string) (netip.Addr, error) {
	return netip.ParseAddr(key[len(k.ipPrefix()):])
}

// Client connects to etcd without opening a store (for the cluster and
// inventory packages, which share the connection).
func Client(t storeurl.Target, tc *tls.Config, timeout time.Duration) (*clientv3.Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: t.Endpoints(tc != nil), TLS: tc, DialTimeout: timeout,
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: timeout,
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", t, err)
	}
	return cli, nil
}

// Open connects to etcd, loads every lease into the mirror and starts the
// watch, the writer and the sweeper. It fails when etcd does not answer
// within the timeout: an instance does not start without its leases.
func Open(c Config) (*Store, error) {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = quiet()
	}
	cli, err := Client(c.Target, c.TLS, c.Timeout)
	if err != nil {
		return nil, err
	}
	s := &Store{
		cli: cli, keys: keys{c.Target.Prefix}, member: c.Member, log: c.Log, now: c.Now,
		timeout: c.Timeout, pending: map[netip.Addr]leases.Lease{}, wake: make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	rev, err := s.load()
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("lease store %s: %w", c.Target, err)
	}
	s.wg.Add(3)
	go s.watch(rev)
	go s.writer()
	go s.sweeper(c.SweepInterval)
	return s, nil
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// load reads every address key into a new mirror and returns the revision
// it was read at.
func (s *Store) load() (int64, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout*2)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.keys.ipPrefix(), clientv3.WithPrefix())
	if err != nil {
		return 0, err
	}
	m := make(map[netip.Addr]entry, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		l, err := decode(string(kv.Key), kv.Value)
		if err != nil {
			s.log.WithError(err).Warn("lease store: skipping a record it cannot read")
			continue
		}
		m[l.IP] = entry{lease: l, rev: kv.ModRevision}
	}
	s.mu.Lock()
	for ip, l := range s.pending { // renewals not yet written stay visible
		e := m[ip]
		e.lease = l
		m[ip] = e
	}
	s.mirror = m
	s.byClient = make(map[string]netip.Addr, len(m))
	for ip, e := range m {
		if e.lease.State == leases.Bound {
			s.byClient[e.lease.Key()] = ip
		}
	}
	s.mu.Unlock()
	return resp.Header.Revision, nil
}

// watch applies other instances' changes to the mirror until Close; a
// broken watch (compaction) reloads everything and watches again.
func (s *Store) watch(rev int64) {
	defer s.wg.Done()
	for s.ctx.Err() == nil {
		wch := s.cli.Watch(clientv3.WithRequireLeader(s.ctx), s.keys.ipPrefix(), clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for resp := range wch {
			if err := resp.Err(); err != nil {
				s.log.WithError(err).Warn("lease store: watch broken, reloading")
				break
			}
			s.apply(resp.Events)
			rev = resp.Header.Revision
		}
		if s.ctx.Err() != nil {
			return
		}
		for s.ctx.Err() == nil {
			r, err := s.load()
			if err == nil {
				s.Metrics.WatchReloads.Add(1)
				rev = r
				break
			}
			s.sleep(time.Second)
		}
	}
}

func (s *Store) apply(evs []*clientv3.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		key := string(ev.Kv.Key)
		ip, err := s.keys.addrOf(key)
		if err != nil {
			continue
		}
		cur := s.mirror[ip]
		if ev.Kv.ModRevision <= cur.rev {
			continue // our own write, already applied
		}
		if ev.Type == clientv3.EventTypeDelete {
			delete(s.mirror, ip)
			continue
		}
		l, err := decode(key, ev.Kv.Value)
		if err != nil {
			s.log.WithError(err).Warn("lease store: skipping a record it cannot read")
			continue
		}
		s.put(ip, entry{lease: l, rev: ev.Kv.ModRevision})
	}
}

// Allocate implements leases.Store.
func (s *Store) Allocate(l leases.Lease) error { l.State = leases.Bound; return s.wait(l) }

// Renew implements leases.Store.
func (s *Store) Renew(l leases.Lease) error { l.State = leases.Bound; return s.wait(l) }

// Release implements leases.Store.
func (s *Store) Release(l leases.Lease) error { l.State = leases.Released; return s.wait(l) }

// Expire implements leases.Store.
func (s *Store) Expire(l leases.Lease) error { l.State = leases.Expired; return s.wait(l) }

// Decline implements leases.Store.
func (s *Store) Decline(l leases.Lease) error { l.State = leases.Declined; return s.wait(l) }

func (s *Store) wait(l leases.Lease) error {
	ch := make(chan error, 1)
	s.Commit(l, func(err error) { ch <- err })
	return <-ch
}

// Commit implements leases.Committer: done runs once the transaction that
// carries l succeeded or l was refused.
func (s *Store) Commit(l leases.Lease, done func(error)) {
	s.enqueue(item{l: l, done: done})
}

func (s *Store) enqueue(it item) {
	if !it.l.IP.Is4() {
		it.done(fmt.Errorf("lease store: %v is not an IPv4 address", it.l.IP))
		return
	}
	it.l.MAC, it.l.ClientID = slices.Clone(it.l.MAC), slices.Clone(it.l.ClientID)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		it.done(ErrClosed)
		return
	}
	s.queue = append(s.queue, it)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// List implements leases.Store: the mirror, ordered by address.
func (s *Store) List() ([]leases.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]leases.Lease, 0, len(s.mirror))
	for _, e := range s.mirror {
		out = append(out, e.lease)
	}
	slices.SortFunc(out, func(a, b leases.Lease) int { return a.IP.Compare(b.IP) })
	return out, nil
}

// put sets the mirror's entry for ip and the client index; s.mu is held.
func (s *Store) put(ip netip.Addr, e entry) {
	s.mirror[ip] = e
	if e.lease.State == leases.Bound {
		s.byClient[e.lease.Key()] = ip
	}
}

// Holding implements leases.Shared: the address the client key holds
// (bound, live at now) in the shared store, whichever server bound it.
func (s *Store) Holding(key string, now time.Time) (netip.Addr, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ip, ok := s.byClient[key]
	if !ok {
		return netip.Addr{}, false
	}
	e := s.mirror[ip]
	if e.lease.State != leases.Bound || e.lease.Key() != key || !now.Before(e.lease.Expiry) {
		return netip.Addr{}, false
	}
	return ip, true
}

// Taken implements leases.Shared.
func (s *Store) Taken(ip netip.Addr, key string, now time.Time) bool {
	s.mu.Lock()
	e, ok := s.mirror[ip]
	s.mu.Unlock()
	if !ok || !now.Before(e.lease.Expiry) {
		return false
	}
	switch e.lease.State {
	case leases.Declined:
		return true
	case leases.Bound:
		return e.lease.Key() != key
	}
	return false
}

// Degraded reports whether etcd is unreachable right now.
func (s *Store) Degraded() bool { return s.degraded.Load() }

// Close stops the watch, the sweeper and the writer (after it wrote what
// was queued, as far as etcd answers) and closes the connection.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.cancel()
	s.wg.Wait()
	return s.cli.Close()
}

func (s *Store) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

// Read returns every lease in the store at t, ordered by address, without
// opening a Store (no watch, no sweeper, nothing written): for
// `rackboot leases` and export.
func Read(t storeurl.Target, tc *tls.Config, timeout time.Duration) ([]leases.Lease, error) {
	cli, err := Client(t, tc, timeout)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	s := &Store{cli: cli, keys: keys{t.Prefix}, timeout: max(timeout, DefaultTimeout), ctx: context.Background(), log: quiet()}
	if _, err := s.load(); err != nil {
		return nil, fmt.Errorf("lease store %s: %w", t, err)
	}
	return s.List()
}

func quiet() logrus.FieldLogger {
	l := logrus.New()
	l.Out = discard{}
	return l
}

// Client is the store's etcd connection, for the membership and the
// status page to share.
func (s *Store) Client() *clientv3.Client { return s.cli }
