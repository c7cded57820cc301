package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sirupsen/logrus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rackboot/rackboot/leases"
)

// action is what a queued change does, given the record etcd holds.
type action uint8

const (
	write action = iota // send it
	noop                // nothing to do (not ours to release or expire)
	taken               // another client's live binding: refuse
)

var errDegradedNow = errors.New("etcd unreachable at the last attempt")

// decide applies the allocation rules to one change against the current
// record cur (have is false when the address has no record):
//   - a binding (Bound) may replace no record, the same client's record,
//     a released or expired one, or any record past its expiry;
//   - a quarantine (Declined) may replace anything but another client's
//     live binding;
//   - a release or expiry is written only over the same client's record
//     (an expiry only while that record is a binding past its expiry):
//     another client's binding is not this change's to end.
func decide(cur leases.Lease, have bool, l leases.Lease, now time.Time) action {
	same := have && cur.Key() == l.Key()
	live := have && now.Before(cur.Expiry)
	switch l.State {
	case leases.Bound:
		if !have || same || !live || cur.State == leases.Released || cur.State == leases.Expired {
			return write
		}
		return taken
	case leases.Declined:
		if !have || same || !live || cur.State != leases.Bound {
			return write
		}
		return taken
	case leases.Released:
		if same && cur.State != leases.Released {
			return write
		}
	case leases.Expired:
		if same && cur.State == leases.Bound && !live {
			return write
		}
	}
	return noop
}

// keepWhileDown reports whether a change may be accepted while etcd is
// unreachable: a renewal of the same client's live binding, or a change
// that only frees or quarantines an address.
func keepWhileDown(cur leases.Lease, have bool, l leases.Lease, now time.Time) bool {
	if l.State != leases.Bound {
		return true
	}
	return have && cur.Key() == l.Key() && cur.State == leases.Bound && now.Before(cur.Expiry)
}

// inFlight is how many transactions the writer keeps outstanding at once:
// while one waits for etcd's disk the next batch is already on its way.
// Batches in flight never share an address.
const inFlight = 4

// writer sends the queued changes, a batch per transaction, up to inFlight
// transactions at once, until Close; while degraded it checks every half
// second whether etcd is back.
func (s *Store) writer() {
	defer s.wg.Done()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	slots := make(chan struct{}, inFlight)
	defer func() {
		for range inFlight {
			slots <- struct{}{} // wait for the transactions in flight
		}
	}()
	for {
		select {
		case <-s.wake:
		case <-tick.C:
		case <-s.ctx.Done():
		}
		for {
			slots <- struct{}{}
			batch := s.take()
			if len(batch) == 0 {
				<-slots
				break
			}
			go func() {
				s.commit(batch)
				s.done(batch)
				<-slots
				s.kick()
			}()
		}
		if s.ctx.Err() != nil {
			s.drain(slots)
			return
		}
		if s.degraded.Load() {
			s.probe()
		}
	}
}

// drain sends what is still queued after Close, waiting for each batch.
func (s *Store) drain(slots chan struct{}) {
	for {
		slots <- struct{}{}
		batch := s.take()
		<-slots
		if len(batch) == 0 {
			s.mu.Lock()
			n, busy := len(s.queue), len(s.busy)
			s.mu.Unlock()
			if n == 0 || busy == 0 {
				return
			}
			time.Sleep(time.Millisecond) // the rest waits for batches in flight
			continue
		}
		s.commit(batch)
		s.done(batch)
	}
}

func (s *Store) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take removes up to maxBatch changes for distinct addresses, none in a
// transaction in flight, from the queue, oldest first; a second change of
// one address waits for a later batch so that it is compared against the
// first.
func (s *Store) take() []item {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return nil
	}
	if s.busy == nil {
		s.busy = map[netip.Addr]bool{}
	}
	seen := make(map[netip.Addr]bool, min(len(s.queue), maxBatch))
	var batch []item
	rest := s.queue[:0:0]
	for _, it := range s.queue {
		if len(batch) == maxBatch || seen[it.l.IP] || s.busy[it.l.IP] {
			rest = append(rest, it)
			continue
		}
		seen[it.l.IP] = true
		batch = append(batch, it)
	}
	for ip := range seen {
		s.busy[ip] = true
	}
	s.queue = rest
	return batch
}

// done frees a finished batch's addresses for the next batches.
func (s *Store) done(batch []item) {
	s.mu.Lock()
	for _, it := range batch {
		delete(s.busy, it.l.IP)
	}
	s.mu.Unlock()
}

// commit sends one batch as one transaction; when a compare fails (another
// instance changed an address since the mirror saw it) it takes the fresh
// records the transaction returned and tries again with what is still
// allowed.
func (s *Store) commit(batch []item) {
	if s.closing() && s.degraded.Load() {
		s.failAll(batch, fmt.Errorf("lease store closing: %w", leases.ErrUnavailable))
		return
	}
	for range maxAttempts {
		writes, revs := s.sort(batch)
		if len(writes) == 0 {
			return
		}
		if s.degraded.Load() {
			// The probe finds out when etcd is back; meanwhile no change
			// waits for a transaction that would time out.
			s.down(errDegradedNow, writes)
			return
		}
		resp, err := s.txn(writes, revs)
		if err != nil {
			s.down(err, writes)
			return
		}
		s.up()
		if resp.Succeeded {
			s.applyOwn(writes, resp.Header.Revision)
			return
		}
		s.Metrics.Conflicts.Add(1)
		s.applyFresh(writes, resp)
		batch = writes
	}
	s.failAll(batch, errContended)
}

func (s *Store) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Store) failAll(batch []item, err error) {
	for _, it := range batch {
		it.done(err)
	}
}

// sort decides each change against the mirror: refusals and no-ops are
// answered at once, the writes are returned with the revisions to compare.
func (s *Store) sort(batch []item) ([]item, []int64) {
	now := s.now()
	var writes []item
	var revs []int64
	var answered []func()
	s.mu.Lock()
	for _, it := range batch {
		cur, have := s.mirror[it.l.IP]
		switch decide(cur.lease, have, it.l, now) {
		case write:
			writes = append(writes, it)
			revs = append(revs, cur.rev)
		case noop:
			answered = append(answered, func() { it.done(nil) })
		case taken:
			s.Metrics.Taken.Add(1)
			err := fmt.Errorf("%s for %s: %w (%s, until %s)", it.l.IP, describe(it.l), leases.ErrTaken,
				describe(cur.lease), cur.lease.Expiry.UTC().Format(time.RFC3339))
			answered = append(answered, func() { it.done(err) })
		}
	}
	s.mu.Unlock()
	for _, f := range answered {
		f()
	}
	return writes, revs
}

// txn sends one transaction: if every address key is still at the
// revision the mirror saw, put each record and its client key; else read
// every address key back.
func (s *Store) txn(writes []item, revs []int64) (*clientv3.TxnResponse, error) {
	cmps := make([]clientv3.Cmp, len(writes))
	thens := make([]clientv3.Op, 0, 2*len(writes))
	elses := make([]clientv3.Op, len(writes))
	for i, it := range writes {
		k := s.keys.ip(it.l.IP)
		cmps[i] = clientv3.Compare(clientv3.ModRevision(k), "=", revs[i])
		thens = append(thens, clientv3.OpPut(k, string(encode(it.l, s.member))),
			clientv3.OpPut(s.keys.client(it.l), it.l.IP.String()))
		elses[i] = clientv3.OpGet(k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	s.Metrics.Txns.Add(1)
	return s.cli.Txn(clientv3.WithRequireLeader(ctx)).If(cmps...).Then(thens...).Else(elses...).Commit()
}

// applyOwn folds a successful transaction into the mirror and answers its
// changes.
func (s *Store) applyOwn(writes []item, rev int64) {
	s.mu.Lock()
	for _, it := range writes {
		s.put(it.l.IP, entry{lease: it.l, rev: rev})
		delete(s.pending, it.l.IP)
	}
	s.Metrics.pendingRenewalsNo.Store(uint64(len(s.pending)))
	s.mu.Unlock()
	for _, it := range writes {
		if it.sweep {
			s.Metrics.SweptExpired.Add(1)
		}
		it.done(nil)
	}
}

// applyFresh takes the records a failed transaction read back.
func (s *Store) applyFresh(writes []item, resp *clientv3.TxnResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range resp.Responses {
		if i >= len(writes) {
			break
		}
		ip := writes[i].l.IP
		rr := r.GetResponseRange()
		if rr == nil || len(rr.Kvs) == 0 {
			delete(s.mirror, ip)
			continue
		}
		kv := rr.Kvs[0]
		l, err := decode(string(kv.Key), kv.Value)
		if err != nil {
			s.log.WithError(err).Warn("lease store: a record it cannot read; overwriting it")
			s.put(ip, entry{lease: leases.Lease{IP: ip, State: leases.Expired}, rev: kv.ModRevision})
			continue
		}
		s.put(ip, entry{lease: l, rev: kv.ModRevision})
	}
}

// down handles a transaction that did not reach etcd: the store turns
// degraded; renewals of live bindings (and releases, expiries, declines)
// are accepted and kept for later, new bindings are refused.
func (s *Store) down(err error, writes []item) {
	if err != errDegradedNow {
		s.Metrics.Errors.Add(1)
	}
	if !s.degraded.Swap(true) {
		s.Metrics.DegradedEpisodes.Add(1)
		s.Metrics.degradedNow.Store(1)
		s.log.WithError(err).Warn("lease store: etcd unreachable, degraded: renewing held leases locally, refusing new bindings")
	}
	now := s.now()
	var answered []func()
	s.mu.Lock()
	for _, it := range writes {
		cur, have := s.mirror[it.l.IP]
		if !keepWhileDown(cur.lease, have, it.l, now) {
			s.Metrics.RefusedWhileDown.Add(1)
			e := fmt.Errorf("new binding of %s for %s: %w: %v", it.l.IP, describe(it.l), leases.ErrUnavailable, err)
			answered = append(answered, func() { it.done(e) })
			continue
		}
		if it.l.State == leases.Bound {
			s.Metrics.DegradedRenewals.Add(1)
		}
		s.put(it.l.IP, entry{lease: it.l, rev: cur.rev})
		s.pending[it.l.IP] = it.l
		answered = append(answered, func() { it.done(nil) })
	}
	s.Metrics.pendingRenewalsNo.Store(uint64(len(s.pending)))
	s.mu.Unlock()
	for _, f := range answered {
		f()
	}
}

// up ends degraded mode after a request reached etcd: the changes kept
// meanwhile are queued to be written (compare-and-swap as always; one that
// lost its address meanwhile is logged).
func (s *Store) up() {
	if !s.degraded.Swap(false) {
		return
	}
	s.Metrics.degradedNow.Store(0)
	s.mu.Lock()
	kept := make([]leases.Lease, 0, len(s.pending))
	for _, l := range s.pending {
		kept = append(kept, l)
	}
	s.mu.Unlock()
	s.log.WithField("kept_changes", len(kept)).Info("lease store: etcd reachable again, writing the changes kept while degraded")
	for _, l := range kept {
		l := l
		s.enqueue(item{l: l, done: func(err error) {
			if err != nil {
				s.log.WithError(err).WithField("ip", l.IP).Warn("lease store: a change kept while degraded could not be written")
			}
		}})
	}
}

// probe asks etcd for a key count; success ends degraded mode.
func (s *Store) probe() {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	if _, err := s.cli.Get(clientv3.WithRequireLeader(ctx), s.keys.prefix+"/leases/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err == nil {
		s.up()
	}
}

// sweeper marks bindings past their expiry as expired, whichever instance
// made them, so expiry works while any instance is alive. The first
// instance's write wins; the others' become no-ops.
func (s *Store) sweeper(every time.Duration) {
	defer s.wg.Done()
	for s.ctx.Err() == nil {
		s.sleep(every)
		if s.degraded.Load() || s.ctx.Err() != nil {
			continue
		}
		now := s.now()
		s.mu.Lock()
		var due []leases.Lease
		for _, e := range s.mirror {
			if e.lease.State == leases.Bound && !now.Before(e.lease.Expiry) {
				due = append(due, e.lease)
			}
		}
		s.mu.Unlock()
		for _, l := range due {
			l.State = leases.Expired
			s.enqueue(item{l: l, sweep: true, done: func(err error) {
				if err != nil {
					s.log.WithError(err).WithField("ip", l.IP).Debug("lease store: marking an expired lease")
				}
			}})
		}
		if len(due) > 0 {
			s.log.WithFields(logrus.Fields{"due": len(due)}).Debug("lease store: expiring lapsed bindings")
		}
	}
}

func describe(l leases.Lease) string {
	if len(l.ClientID) > 0 {
		return fmt.Sprintf("client-id %x", l.ClientID)
	}
	if len(l.MAC) > 0 {
		return l.MAC.String()
	}
	return "no client"
}
