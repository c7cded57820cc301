package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultTakeover is cluster.takeover's default: the longest a dead
// member's clients go unanswered.
const DefaultTakeover = 5 * time.Second

// Member is one live instance as it announces itself under
// PREFIX/members/NAME.
type Member struct {
	Name string `json:"name"`
	// Addr is the address its clients use for TFTP and HTTP.
	Addr    string    `json:"addr,omitempty"`
	Started time.Time `json:"started"`
}

// Config is what Join needs.
type Config struct {
	Client *clientv3.Client
	Prefix string
	Self   Member
	// Takeover bounds how long a dead member's buckets stay unanswered;
	// the membership lease's TTL is derived from it (TTLFor).
	Takeover time.Duration
	Log      logrus.FieldLogger
	// OnChange, when set, is called after every change of the live list.
	OnChange func(live []Member, owned int)
}

// TTLFor is the membership lease TTL for a takeover bound: three fifths of
// it, in whole seconds, at least 2 (etcd's smallest). etcd's leader checks
// for lapsed leases every 500 ms and the watch delivers the deletion at
// once, so a dead member's buckets move within TTL + about a second.
func TTLFor(takeover time.Duration) int64 {
	return max(2, int64(takeover*3/5/time.Second))
}

// Membership is this instance's place in the member list. Owns is safe to
// call from any goroutine, and cheap (one atomic load).
type Membership struct {
	cfg    Config
	key    string
	ttl    int64
	owned  atomic.Pointer[[Buckets]bool]
	mu     sync.Mutex
	live   map[string]Member
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	lease  atomic.Int64 // clientv3.LeaseID
	// Changes counts recomputed assignments (for tests and metrics).
	Changes atomic.Uint64
}

func (c Config) membersPrefix() string { return c.Prefix + "/members/" }

// Join announces self under a lease, reads the live members and starts
// keeping the lease alive and the list current. Until Join returns the
// instance owns no bucket.
func Join(c Config) (*Membership, error) {
	if c.Takeover <= 0 {
		c.Takeover = DefaultTakeover
	}
	if c.Self.Name == "" || strings.Contains(c.Self.Name, "/") {
		return nil, fmt.Errorf("cluster: member name %q must be non-empty and without '/'", c.Self.Name)
	}
	if c.Self.Started.IsZero() {
		c.Self.Started = time.Now().UTC()
	}
	m := &Membership{cfg: c, key: c.membersPrefix() + c.Self.Name, ttl: TTLFor(c.Takeover), live: map[string]Member{}}
	m.owned.Store(&[Buckets]bool{})
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if err := m.announce(); err != nil {
		m.cancel()
		return nil, err
	}
	rev, err := m.load()
	if err != nil {
		m.cancel()
		return nil, err
	}
	m.wg.Add(1)
	go m.run(rev)
	return m, nil
}

// announce grants a lease and puts the member key under it; a member of
// the same name that is still listed (this instance restarted faster than
// its old lease lapsed) is replaced.
func (m *Membership) announce() error {
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.Takeover)
	defer cancel()
	g, err := m.cfg.Client.Grant(ctx, m.ttl)
	if err != nil {
		return fmt.Errorf("cluster: granting a %ds lease: %w", m.ttl, err)
	}
	val, _ := json.Marshal(m.cfg.Self)
	if _, err := m.cfg.Client.Put(ctx, m.key, string(val), clientv3.WithLease(g.ID)); err != nil {
		return fmt.Errorf("cluster: announcing %s: %w", m.key, err)
	}
	m.lease.Store(int64(g.ID))
	return nil
}

// load reads the member list and recomputes the assignment.
func (m *Membership) load() (int64, error) {
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.Takeover)
	defer cancel()
	resp, err := m.cfg.Client.Get(ctx, m.cfg.membersPrefix(), clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("cluster: reading the members: %w", err)
	}
	live := map[string]Member{}
	for _, kv := range resp.Kvs {
		if mem, ok := m.decode(kv.Key, kv.Value); ok {
			live[mem.Name] = mem
		}
	}
	m.mu.Lock()
	m.live = live
	m.mu.Unlock()
	m.recompute()
	return resp.Header.Revision, nil
}

func (m *Membership) decode(key, val []byte) (Member, bool) {
	var mem Member
	if err := json.Unmarshal(val, &mem); err != nil {
		m.logf().WithError(err).WithField("key", string(key)).Warn("cluster: skipping a member record it cannot read")
		return Member{}, false
	}
	mem.Name = strings.TrimPrefix(string(key), m.cfg.membersPrefix())
	return mem, true
}

func (m *Membership) logf() logrus.FieldLogger {
	if m.cfg.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		return l
	}
	return m.cfg.Log
}

// run keeps the lease alive and the list current until Close.
func (m *Membership) run(rev int64) {
	defer m.wg.Done()
	for m.ctx.Err() == nil {
		ka, err := m.cfg.Client.KeepAlive(m.ctx, clientv3.LeaseID(m.lease.Load()))
		if err != nil {
			m.rejoin()
			continue
		}
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(m.ctx))
		wch := m.cfg.Client.Watch(wctx, m.cfg.membersPrefix(), clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		rev = m.follow(ka, wch)
		wcancel()
		if m.ctx.Err() == nil {
			m.rejoin()
			if r, err := m.load(); err == nil {
				rev = r
			}
		}
	}
}

// follow applies watch events until the keep-alive or the watch ends; it
// returns the last revision seen.
func (m *Membership) follow(ka <-chan *clientv3.LeaseKeepAliveResponse, wch clientv3.WatchChan) int64 {
	var rev int64
	for {
		select {
		case _, ok := <-ka:
			if !ok {
				m.logf().Warn("cluster: membership lease lost (etcd unreachable for longer than its TTL?), joining again")
				return rev
			}
		case resp, ok := <-wch:
			if !ok || resp.Err() != nil {
				return rev
			}
			rev = resp.Header.Revision
			m.apply(resp.Events)
		case <-m.ctx.Done():
			return rev
		}
	}
}

func (m *Membership) apply(evs []*clientv3.Event) {
	m.mu.Lock()
	for _, ev := range evs {
		name := strings.TrimPrefix(string(ev.Kv.Key), m.cfg.membersPrefix())
		if ev.Type == clientv3.EventTypeDelete {
			delete(m.live, name)
			continue
		}
		if mem, ok := m.decode(ev.Kv.Key, ev.Kv.Value); ok {
			m.live[name] = mem
		}
	}
	m.mu.Unlock()
	m.recompute()
}

// rejoin announces again (with a new lease) until it works or Close; the
// instance keeps answering its last buckets meanwhile.
func (m *Membership) rejoin() {
	for m.ctx.Err() == nil {
		if err := m.announce(); err == nil {
			return
		} else {
			m.logf().WithError(err).Debug("cluster: rejoining")
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-t.C:
		case <-m.ctx.Done():
			t.Stop()
		}
	}
}

// recompute derives this member's buckets from the live list. The
// instance always counts itself as live: it keeps answering its share
// while it cannot see etcd (the others may take it over meanwhile; both
// then answer, from the same lease records).
func (m *Membership) recompute() {
	m.mu.Lock()
	names := []string{m.cfg.Self.Name}
	for n := range m.live {
		names = append(names, n)
	}
	m.mu.Unlock()
	a := Assign(names)
	owned := a.Owned(m.cfg.Self.Name)
	old := m.owned.Swap(&owned)
	if *old == owned {
		return
	}
	m.Changes.Add(1)
	n := a.Count()[m.cfg.Self.Name]
	live := m.Live()
	m.logf().WithFields(logrus.Fields{"members": names0(live), "buckets": n}).Info("cluster: member list changed")
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(live, n)
	}
}

func names0(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

// Owns reports whether this instance answers clients of bucket h.
func (m *Membership) Owns(h uint8) bool { return m.owned.Load()[h] }

// OwnsClient reports whether this instance answers the client (RFC 3074
// hash of its client identifier, else of chaddr).
func (m *Membership) OwnsClient(clientID, chaddr []byte) bool {
	return m.Owns(ClientHash(clientID, chaddr))
}

// Buckets is how many buckets this instance answers now.
func (m *Membership) Buckets() int {
	n := 0
	for _, o := range m.owned.Load() {
		if o {
			n++
		}
	}
	return n
}

// Live returns the live members (this one included), by name.
func (m *Membership) Live() []Member {
	m.mu.Lock()
	out := make([]Member, 0, len(m.live)+1)
	self := false
	for _, mem := range m.live {
		self = self || mem.Name == m.cfg.Self.Name
		out = append(out, mem)
	}
	m.mu.Unlock()
	if !self {
		out = append(out, m.cfg.Self)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Close leaves the cluster: the lease is revoked, so the others take this
// member's buckets at once.
func (m *Membership) Close() error {
	m.cancel()
	m.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := m.cfg.Client.Revoke(ctx, clientv3.LeaseID(m.lease.Load()))
	return err
}

// Abandon stops without revoking the lease, as a crash would: the others
// take the buckets over only when the lease lapses. For tests and the
// takeover benchmark.
func (m *Membership) Abandon() {
	m.cancel()
	m.wg.Wait()
}
