package leases

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// File names inside the data directory: DHCPv4 leases in leases.wal (its
// records unchanged since version 1), DHCPv6 leases in leases6.wal, each
// with its own lock, so the DHCPv4 and DHCPv6 servers of one daemon hold
// one each and a rackboot that predates IPv6 never sees an IPv6 record.
const (
	logName   = "leases.wal"
	lockName  = "leases.lock"
	log6Name  = "leases6.wal"
	lock6Name = "leases6.lock"
)

// ErrLocked is returned by Open when another process holds the store.
var ErrLocked = errors.New("lease store is held by another process")

// ErrClosed is returned by a Log's methods after Close.
var ErrClosed = errors.New("lease store closed")

// Log is the durable Store: every change is appended to DIR/leases.wal and
// fdatasync'ed before the call returns. Changes made concurrently share one
// write and one sync (group commit): a single writer goroutine takes
// whatever queued while the previous sync ran. The log is rewritten to one
// record per address when it opens and whenever it has grown to several
// times that, by writing a new file and renaming it over the old one, so a
// reader (Read) always sees a whole log.
//
// One process at a time may open a Log (an flock on DIR/leases.lock);
// Read needs no lock and works while a server runs.
type Log struct {
	dir  string
	name string // the log's file name in dir
	lock *os.File
	f    *os.File // the log, opened for append; owned by the writer

	mu      sync.Mutex
	pending []byte  // encoded records waiting for the writer
	queued  []Lease // the same records, for latest
	dones   []func(error)
	cur     *batch // the batch those records will be synced in
	closed  bool
	wake    chan struct{}
	done    chan struct{}

	latestMu sync.RWMutex
	latest   map[netip.Addr]Lease // the newest record of each address
	records  int                  // records in the file now

	// compactFactor: the writer rewrites the log once it holds more than
	// this many records per known address (plus 1024).
	compactFactor int
	syncs         uint64
	// syncGap is the least time from one group commit's start to the
	// next's (DefaultSyncGap).
	syncGap time.Duration
}

// DefaultSyncGap is the least time between two group commits. An idle
// log syncs a record at once; under load the writer waits out the rest of
// the gap after the previous commit began, so that more records share
// each fdatasync, whose CPU cost hardly depends on what it carries: at
// 9,000 exchanges/s, 5 ms cut the server's CPU per exchange by 7 % and at
// 6,000/s by 15 % (bench/README.md, DHCP), for an ACK that waits at most
// 5 ms longer. Every ACK still goes out only after its lease is synced.
const DefaultSyncGap = 5 * time.Millisecond

// batch is one group commit: every caller whose record went into it waits
// on done and then reads err.
type batch struct {
	done chan struct{}
	err  error
}

var (
	_ Store     = (*Log)(nil)
	_ Committer = (*Log)(nil)
)

// Open opens (creating if need be) the lease log in dir, replays it and
// starts its writer. It fails with ErrLocked when another process has it
// open.
func Open(dir string) (*Log, error) { return open(dir, logName, lockName) }

// Open6 opens the DHCPv6 lease log in dir (leases6.wal) as Open does the
// DHCPv4 one: a store of its own beside it, with its own lock.
func Open6(dir string) (*Log, error) { return open(dir, log6Name, lock6Name) }

func open(dir, logName, lockName string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (is another rackboot serving with this data_dir?)", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lease store: locking %s: %w", lock.Name(), err)
	}
	l := &Log{
		dir: dir, name: logName, lock: lock, compactFactor: 4, syncGap: DefaultSyncGap,
		cur:  &batch{done: make(chan struct{})},
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if l.latest, err = readLatest(filepath.Join(dir, logName)); err != nil {
		lock.Close()
		return nil, err
	}
	if err := l.compact(); err != nil {
		lock.Close()
		return nil, err
	}
	go l.writer()
	return l, nil
}

// Read returns the newest record of every address in the logs in dir
// (DHCPv4, then DHCPv6), ordered by address, without taking the stores'
// locks: it works whether or not a server has them open.
func Read(dir string) ([]Lease, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	latest, err := readLatest(filepath.Join(dir, logName))
	if err != nil {
		return nil, err
	}
	latest6, err := readLatest(filepath.Join(dir, log6Name))
	if err != nil {
		return nil, err
	}
	for ip, l := range latest6 {
		latest[ip] = l
	}
	return sorted(latest), nil
}

// readLatest replays a log file; a missing file is an empty log.
func readLatest(name string) (map[netip.Addr]Lease, error) {
	latest := map[netip.Addr]Lease{}
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return latest, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lease store: %w", err)
	}
	defer f.Close()
	if _, err := readRecords(f, func(l Lease) { latest[l.IP] = l }); err != nil {
		return nil, fmt.Errorf("lease store: reading %s: %w", name, err)
	}
	return latest, nil
}

func sorted(m map[netip.Addr]Lease) []Lease {
	out := make([]Lease, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Lease) int { return a.IP.Compare(b.IP) })
	return out
}

// Allocate implements Store.
func (l *Log) Allocate(ls Lease) error { ls.State = Bound; return l.append(ls) }

// Renew implements Store.
func (l *Log) Renew(ls Lease) error { ls.State = Bound; return l.append(ls) }

// Release implements Store.
func (l *Log) Release(ls Lease) error { ls.State = Released; return l.append(ls) }

// Expire implements Store.
func (l *Log) Expire(ls Lease) error { ls.State = Expired; return l.append(ls) }

// Decline implements Store.
func (l *Log) Decline(ls Lease) error { ls.State = Declined; return l.append(ls) }

// List implements Store.
func (l *Log) List() ([]Lease, error) {
	l.latestMu.RLock()
	defer l.latestMu.RUnlock()
	return sorted(l.latest), nil
}

// Syncs returns how many fdatasync calls the log has made.
func (l *Log) Syncs() uint64 {
	l.latestMu.RLock()
	defer l.latestMu.RUnlock()
	return l.syncs
}

// append queues one record and waits until the batch that carries it is
// on disk.
func (l *Log) append(ls Lease) error {
	b, err := l.enqueue(ls, nil)
	if err != nil {
		return err
	}
	<-b.done
	return b.err
}

// Commit implements Committer: done runs, in a goroutine of the batch,
// once the batch that carries ls is on disk.
func (l *Log) Commit(ls Lease, done func(error)) {
	if _, err := l.enqueue(ls, done); err != nil {
		done(err)
	}
}

// enqueue adds one record to the next batch and wakes the writer.
func (l *Log) enqueue(ls Lease, done func(error)) (*batch, error) {
	if want6 := l.name == log6Name; !ls.IP.IsValid() || ls.IP.Is4() == want6 || ls.IP.Is4In6() {
		return nil, fmt.Errorf("lease store: %v is not an %s address (%s)", ls.IP, map[bool]string{false: "IPv4", true: "IPv6"}[want6], l.name)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	l.pending = appendRecord(l.pending, ls)
	l.queued = append(l.queued, ls)
	if done != nil {
		l.dones = append(l.dones, done)
	}
	b := l.cur
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return b, nil
}

// writer runs the group commits until Close.
func (l *Log) writer() {
	defer close(l.done)
	var spare []byte
	var spareQ []Lease
	var last time.Time
	for range l.wake {
		if wait := l.syncGap - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		last = time.Now()
		l.mu.Lock()
		buf, q, dones, b := l.pending, l.queued, l.dones, l.cur
		l.pending, l.queued, l.dones = spare[:0], spareQ[:0], nil
		l.cur = &batch{done: make(chan struct{})}
		closed := l.closed
		l.mu.Unlock()
		if len(q) > 0 {
			b.err = l.commit(buf, q)
		}
		close(b.done)
		if len(dones) > 0 {
			go func(err error) {
				for _, d := range dones {
					d(err)
				}
			}(b.err)
		}
		spare, spareQ = buf, clear0(q)
		if closed {
			return
		}
	}
}

// clear0 drops the references a reused slice holds.
func clear0(q []Lease) []Lease {
	clear(q)
	return q[:0]
}

// commit writes and syncs one batch, then folds it into latest.
func (l *Log) commit(buf []byte, q []Lease) error {
	if _, err := l.f.Write(buf); err != nil {
		return fmt.Errorf("lease store: writing %s: %w", l.f.Name(), err)
	}
	if err := unix.Fdatasync(int(l.f.Fd())); err != nil {
		return fmt.Errorf("lease store: syncing %s: %w", l.f.Name(), err)
	}
	l.latestMu.Lock()
	for _, ls := range q {
		ls.MAC = slices.Clone(ls.MAC)
		ls.ClientID = slices.Clone(ls.ClientID)
		l.latest[ls.IP] = ls
	}
	l.records += len(q)
	l.syncs++
	grown := l.records > l.compactFactor*len(l.latest)+1024
	l.latestMu.Unlock()
	if grown {
		return l.compact()
	}
	return nil
}

// compact rewrites the log as one record per address: a new file, synced,
// renamed over the old one, the directory synced. Only the writer (or Open,
// before it) calls it.
func (l *Log) compact() error {
	name := filepath.Join(l.dir, l.name)
	tmp := name + ".tmp"
	l.latestMu.RLock()
	var buf []byte
	for _, ls := range sorted(l.latest) {
		buf = appendRecord(buf, ls)
	}
	n := len(l.latest)
	l.latestMu.RUnlock()
	if err := writeSynced(tmp, buf); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f = f
	l.latestMu.Lock()
	l.records = n
	l.latestMu.Unlock()
	return nil
}

func writeSynced(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("lease store: writing %s: %w", name, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("lease store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("lease store: syncing %s: %w", dir, err)
	}
	return nil
}

// Close waits for the records already queued to reach the disk, stops the
// writer and releases the lock.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	l.wake <- struct{}{}
	<-l.done
	err := l.f.Close()
	return errors.Join(err, l.lock.Close())
}
