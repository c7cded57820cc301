package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/admin"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// reloader re-reads the inventory file and swaps the result in atomically:
// requests in flight keep the inventory they started with. SIGHUP and the
// file watcher (watch.go) both call it; it remembers what happened for
// GET /api/v1/status.
type reloader struct {
	inv   *atomic.Pointer[boot.Inventory]
	ov    overrides // the serve flags, applied to every file read
	log   logrus.FieldLogger
	build func(*config.Config) *boot.Inventory // nil: boot.NewInventory
	now   func() time.Time                     // nil: time.Now
	first *config.Config                       // the one started with: its server and dhcp run
	// merge, when set, adds the shared store's inventory entries to the
	// file's document (cluster.go); set with setMerge.
	merge func(data []byte) ([]byte, error)

	// The admin API's entries (entries.go), merged into every file read.
	store                  *admin.Store
	data                   []byte // the file in force, as read
	fileMACs, fileProfiles map[string]bool

	mu     sync.Mutex // serialises reloads and guards status
	status reloadStatus
}

// reloadStatus is what GET /api/v1/status shows about the inventory file.
type reloadStatus struct {
	File string `json:"file"`
	// SHA256 is the hash of the file in force; LoadedAt when it was read.
	SHA256   string    `json:"sha256,omitempty"`
	LoadedAt time.Time `json:"loaded_at"`
	Reloads  int       `json:"reloads"`
	// Refused counts reloads refused (an invalid file); for the metrics.
	Refused int `json:"refused"`
	// RestartNeeded names the server and dhcp keys whose file value
	// differs from the running one: they apply at the next restart.
	RestartNeeded []string     `json:"restart_needed"`
	LastError     *reloadError `json:"last_error"`
}

// reloadError is a refused reload: when, the hash of the refused file and
// every problem, one "file:line: key: what" line each.
type reloadError struct {
	At     time.Time `json:"at"`
	SHA256 string    `json:"sha256,omitempty"`
	Errors []string  `json:"errors"`
}

// newReloader returns the reloader for the inventory in inv, read from
// data (nil for the embedded default) at start.
func newReloader(inv *atomic.Pointer[boot.Inventory], ov overrides, log logrus.FieldLogger, data []byte) *reloader {
	r := &reloader{inv: inv, ov: ov, log: log, first: inv.Load().Config(), data: data}
	r.fileMACs, r.fileProfiles = fileNames(r.first)
	if data == nil {
		r.data = config.DefaultData()
	}
	r.status = reloadStatus{File: inv.Load().Config().File, LoadedAt: r.clock(), RestartNeeded: []string{}}
	if data != nil {
		r.status.SHA256 = hashOf(data)
	}
	return r
}

func (r *reloader) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// Status returns a copy of the reload status.
func (r *reloader) Status() reloadStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.RestartNeeded = append([]string{}, s.RestartNeeded...)
	return s
}

// reload reads the file the running inventory came from. A valid file
// replaces profiles, machines, groups and default_profile at once; an
// invalid one is refused with every error logged, and the running
// inventory stays. server and dhcp settings (sockets, subnets, pools) are
// read at start only: a change there is named as needing a restart.
func (r *reloader) reload() bool { return r.reloadIf(false) }

// reloadChanged reloads only when the file's content differs from the one
// last read, good or refused (the watcher sees several events per save).
func (r *reloader) reloadChanged() bool { return r.reloadIf(true) }

func (r *reloader) reloadIf(onlyChanged bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.inv.Load().Config()
	if cur.File == config.EmbeddedName {
		r.log.Warn("reload: serving the embedded default inventory, there is no file to read again")
		return false
	}
	data, err := os.ReadFile(cur.File)
	if err != nil {
		r.refuse(cur.File, "", err)
		return false
	}
	sum := hashOf(data)
	if onlyChanged && (sum == r.status.SHA256 || (r.status.LastError != nil && sum == r.status.LastError.SHA256)) {
		return false
	}
	next, err := config.Parse(cur.File, data)
	if err == nil && r.merge != nil {
		next, data, err = r.withShared(cur.File, data)
	}
	if err != nil {
		r.refuse(cur.File, sum, err)
		return false
	}
	r.ov.apply(next)
	r.data = data
	r.fileMACs, r.fileProfiles = fileNames(next)
	r.swap(cur, r.withEntries(next), sum)
	return true
}

// setMerge makes every reload add the shared store's inventory entries.
func (r *reloader) setMerge(f func(data []byte) ([]byte, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.merge = f
}

// withShared parses the file's document with the shared store's entries
// added; the merged document is what the admin API's entries are then
// merged into.
func (r *reloader) withShared(file string, data []byte) (*config.Config, []byte, error) {
	merged, err := r.merge(data)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Parse(file, merged)
	if err != nil {
		return nil, nil, fmt.Errorf("with the inventory entries from etcd added (lines of the merged document):\n%w", err)
	}
	return cfg, merged, nil
}

// swap puts next in force and records it.
func (r *reloader) swap(cur, next *config.Config, sum string) {
	// Compared with what the process started with, not the last reload:
	// those are the settings running.
	restart := append(changedKeys("server", r.first.Server, next.Server), changedKeys("dhcp", r.first.DHCP, next.DHCP)...)
	log := r.log.WithField("config", cur.File)
	if len(restart) > 0 {
		log.WithField("keys", strings.Join(restart, ",")).Warn("reload: these server/dhcp settings changed; they take effect when rackboot restarts")
	}
	if !reflect.DeepEqual(fixedAddresses(cur), fixedAddresses(next)) {
		log.Warn("reload: machines' fixed ipv4 addresses changed; the pools keep new ones out only after rackboot restarts")
	}
	r.inv.Store(r.builder()(next))
	r.status.SHA256, r.status.LoadedAt, r.status.RestartNeeded, r.status.LastError = sum, r.clock(), restart, nil
	r.status.Reloads++
	log.WithFields(logrus.Fields{"sha256": sum[:12], "profiles": len(next.Profiles),
		"machines": len(next.Machines), "groups": len(next.Groups)}).Info("inventory reloaded")
}

// refuse records and logs a reload that failed; the running inventory
// stays.
func (r *reloader) refuse(file, sum string, err error) {
	r.status.LastError = &reloadError{At: r.clock(), SHA256: sum, Errors: errorLines(err)}
	r.status.Refused++
	r.log.WithField("config", file).Errorf("reload refused, keeping the running inventory:\n%v", err)
}

// errorLines is one line per problem ("file:line: key: what").
func errorLines(err error) []string {
	var es config.Errors
	if errors.As(err, &es) {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}

// onHangup reloads on every SIGHUP until ctx ends.
func (r *reloader) onHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload()
		}
	}
}

// changedKeys names the fields (by YAML key, under prefix) whose values
// differ between a and b, two values of one struct type. Derived fields
// (yaml:"-") are left out: they follow their source key.
func changedKeys(prefix string, a, b any) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		key, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, prefix+"."+key)
		}
	}
	return out
}

func hashOf(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// fixedAddresses lists the machines' fixed addresses, in file order.
func fixedAddresses(c *config.Config) []string {
	var out []string
	for _, m := range c.Machines {
		if m.IPv4 != "" {
			out = append(out, m.IPv4)
		}
	}
	return out
}
