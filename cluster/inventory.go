package cluster

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.yaml.in/yaml/v3"

	"github.com/rackboot/rackboot/internal/logx"
)

// Inventory entries in etcd: PREFIX/inventory/KIND/NAME holds one entry
// of the inventory file's KIND section as YAML (a machine, a group, or a
// profile's body). Every member merges them into its own file's inventory
// (Merge); the file stays the source for what it names.
const (
	KindMachines = "machines"
	KindGroups   = "groups"
	KindProfiles = "profiles"
)

// Kinds are the inventory sections etcd may add to.
var Kinds = []string{KindMachines, KindGroups, KindProfiles}

// Entries are the inventory entries in etcd: kind, then name, then YAML.
type Entries map[string]map[string][]byte

// InventoryKey is where an entry lives.
func InventoryKey(prefix, kind, name string) string {
	return prefix + "/inventory/" + kind + "/" + name
}

// CheckEntry says whether b is a valid entry of kind named name: a YAML
// mapping; a machine's mac must be name (a MAC address), a group's name
// must be name.
func CheckEntry(kind, name string, b []byte) error {
	if !slices.Contains(Kinds, kind) {
		return fmt.Errorf("kind %q is not one of %s", kind, strings.Join(Kinds, ", "))
	}
	if name == "" || strings.ContainsAny(name, "/ \t\n") {
		return fmt.Errorf("%s name %q must be non-empty, without '/' or spaces", kind, name)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("%s %s: %w", kind, name, err)
	}
	if len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s %s: must be a YAML mapping", kind, name)
	}
	switch kind {
	case KindMachines:
		mac, ok := scalar(n.Content[0], "mac")
		if !ok || !sameMAC(mac, name) {
			return fmt.Errorf("machines %s: its mac %q must be the entry's name, a MAC address", name, mac)
		}
	case KindGroups:
		if g, ok := scalar(n.Content[0], "name"); !ok || g != name {
			return fmt.Errorf("groups %s: its name %q must be the entry's name", name, g)
		}
	}
	return nil
}

// Merge adds the entries to the inventory file's YAML and returns the
// merged document: a machine whose mac, a group whose name or a profile
// whose name the file already has is left out (and listed in shadowed),
// so the file decides what it names. Entries that are not valid
// (CheckEntry) are left out and listed in bad.
func Merge(file []byte, e Entries) (merged []byte, shadowed, bad []string, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(file, &doc); err != nil {
		return nil, nil, nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, nil, fmt.Errorf("the inventory must be a mapping")
	}
	root := doc.Content[0]
	for _, kind := range Kinds {
		names := sortedNames(e[kind])
		if len(names) == 0 {
			continue
		}
		sec := section(root, kind)
		for _, name := range names {
			b := e[kind][name]
			if err := CheckEntry(kind, name, b); err != nil {
				bad = append(bad, err.Error())
				continue
			}
			if has(sec, kind, name) {
				shadowed = append(shadowed, kind+"/"+name)
				continue
			}
			var n yaml.Node
			yaml.Unmarshal(b, &n) // checked above
			if kind == KindProfiles {
				sec.Content = append(sec.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, n.Content[0])
			} else {
				sec.Content = append(sec.Content, n.Content[0])
			}
		}
	}
	out, err := yaml.Marshal(&doc)
	return out, shadowed, bad, err
}

// section returns the root's KIND node, adding an empty one when absent.
func section(root *yaml.Node, kind string) *yaml.Node {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == kind {
			v := root.Content[i+1]
			if v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "") {
				*v = yaml.Node{Kind: want(kind)}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: want(kind)}
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: kind}, v)
	return v
}

func want(kind string) yaml.Kind {
	if kind == KindProfiles {
		return yaml.MappingNode
	}
	return yaml.SequenceNode
}

// has reports whether the file's section already names name.
func has(sec *yaml.Node, kind, name string) bool {
	if kind == KindProfiles {
		for i := 0; i+1 < len(sec.Content); i += 2 {
			if sec.Content[i].Value == name {
				return true
			}
		}
		return false
	}
	for _, item := range sec.Content {
		key := "name"
		if kind == KindMachines {
			key = "mac"
		}
		v, ok := scalar(item, key)
		if ok && (v == name || kind == KindMachines && sameMAC(v, name)) {
			return true
		}
	}
	return false
}

func scalar(m *yaml.Node, key string) (string, bool) {
	if m.Kind != yaml.MappingNode {
		return "", false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value, true
		}
	}
	return "", false
}

func sameMAC(a, b string) bool {
	x, err1 := net.ParseMAC(a)
	y, err2 := net.ParseMAC(b)
	return err1 == nil && err2 == nil && x.String() == y.String()
}

func sortedNames(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// InventoryWatch keeps the etcd inventory entries current and calls
// OnChange after each change (and once at start).
type InventoryWatch struct {
	cli    *clientv3.Client
	prefix string
	log    logrus.FieldLogger
	change func(Entries)
	mu     sync.Mutex
	cur    Entries
	cancel context.CancelFunc
	done   chan struct{}
}

// WatchInventory loads the entries under prefix, calls change with them,
// and watches for changes until Close.
func WatchInventory(cli *clientv3.Client, prefix string, log logrus.FieldLogger, change func(Entries)) (*InventoryWatch, error) {
	w := &InventoryWatch{cli: cli, prefix: prefix + "/inventory/", log: logx.OrDiscard(log), change: change, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	rev, err := w.load(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	go w.run(ctx, rev)
	return w, nil
}

func (w *InventoryWatch) load(ctx context.Context) (int64, error) {
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := w.cli.Get(lctx, w.prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("cluster: reading the inventory entries: %w", err)
	}
	e := Entries{}
	for _, kv := range resp.Kvs {
		w.set(e, string(kv.Key), kv.Value)
	}
	w.mu.Lock()
	w.cur = e
	w.mu.Unlock()
	w.change(e.clone())
	return resp.Header.Revision, nil
}

func (w *InventoryWatch) set(e Entries, key string, val []byte) {
	kind, name, ok := strings.Cut(strings.TrimPrefix(key, w.prefix), "/")
	if !ok || !slices.Contains(Kinds, kind) {
		return
	}
	if e[kind] == nil {
		e[kind] = map[string][]byte{}
	}
	if val == nil {
		delete(e[kind], name)
		return
	}
	e[kind][name] = val
}

func (w *InventoryWatch) run(ctx context.Context, rev int64) {
	defer close(w.done)
	for ctx.Err() == nil {
		for resp := range w.cli.Watch(ctx, w.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1)) {
			if resp.Err() != nil {
				break
			}
			rev = resp.Header.Revision
			w.mu.Lock()
			for _, ev := range resp.Events {
				var val []byte
				if ev.Type == clientv3.EventTypePut {
					val = ev.Kv.Value
				}
				w.set(w.cur, string(ev.Kv.Key), val)
			}
			e := w.cur.clone()
			w.mu.Unlock()
			w.change(e)
		}
		if ctx.Err() != nil {
			return
		}
		if r, err := w.load(ctx); err == nil {
			rev = r
		} else {
			w.log.WithError(err).Warn("cluster: inventory watch broken, retrying")
			time.Sleep(time.Second)
		}
	}
}

func (e Entries) clone() Entries {
	out := Entries{}
	for k, m := range e {
		out[k] = map[string][]byte{}
		for n, b := range m {
			out[k][n] = b
		}
	}
	return out
}

// Close stops the watch.
func (w *InventoryWatch) Close() {
	w.cancel()
	<-w.done
}
