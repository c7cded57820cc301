package main

import (
	"context"
	"os"
	"os/signal"
	"reflect"
	"sync/atomic"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// reloader re-reads the inventory file and swaps the result in atomically:
// requests in flight keep the inventory they started with.
type reloader struct {
	inv *atomic.Pointer[boot.Inventory]
	ov  overrides // the serve flags, applied to every file read
	log logrus.FieldLogger
}

// reload reads the file the running inventory came from. A valid file
// replaces profiles, machines, groups and default_profile at once; an
// invalid one is refused with every error logged, and the running
// inventory stays. server and dhcp settings (sockets, subnets, pools) are
// read at start only: a change there is reported as needing a restart.
func (r reloader) reload() bool {
	cur := r.inv.Load().Config()
	if cur.File == config.EmbeddedName {
		r.log.Warn("reload: serving the embedded default inventory, there is no file to read again")
		return false
	}
	next, err := config.Load(cur.File)
	if err != nil {
		r.log.WithField("config", cur.File).Errorf("reload refused, keeping the running inventory:\n%v", err)
		return false
	}
	r.ov.apply(next)
	if !reflect.DeepEqual(cur.Server, next.Server) || !reflect.DeepEqual(cur.DHCP, next.DHCP) {
		r.log.WithField("config", cur.File).Warn("reload: server or dhcp settings changed; they take effect when rackboot restarts")
	}
	if !reflect.DeepEqual(fixedAddresses(cur), fixedAddresses(next)) {
		r.log.WithField("config", cur.File).Warn("reload: machines' fixed ipv4 addresses changed; the pools keep new ones out only after rackboot restarts")
	}
	r.inv.Store(boot.NewInventory(next))
	r.log.WithFields(logrus.Fields{"config": cur.File, "profiles": len(next.Profiles),
		"machines": len(next.Machines), "groups": len(next.Groups)}).Info("inventory reloaded")
	return true
}

// onHangup reloads on every SIGHUP until ctx ends.
func (r reloader) onHangup(ctx context.Context) {
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
