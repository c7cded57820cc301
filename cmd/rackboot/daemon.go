package main

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcp"
	"github.com/rackboot/rackboot/discovery"
	"github.com/rackboot/rackboot/metrics"
	"github.com/rackboot/rackboot/timeline"
)

// component is one server of the daemon. Start returns once it listens;
// it calls fail if it stops on its own. Stop stops taking new work, lets
// the work in flight finish until ctx ends (server.shutdown_grace), then
// ends the rest and returns.
type component interface {
	Name() string
	Start(ctx context.Context, fail context.CancelCauseFunc) error
	Stop(ctx context.Context)
}

// daemon is rackboot serve: the inventory in force and the components
// built for the configuration, in start order.
type daemon struct {
	cfg        *config.Config
	ov         overrides
	rt         runtime
	inv        *atomic.Pointer[boot.Inventory]
	assets     *assets.Store
	server     boot.Server
	server6    boot.Server // for clients that come over IPv6
	metrics    *metrics.Registry
	timeline   *timeline.Store
	obs        observer
	log        *logrus.Logger
	cluster    *clusterComponent
	components []component
	reload     *reloader
	// api serves /api/: each feature registers its routes on it
	// (api.go).
	api     *http.ServeMux
	apiAuth http.Handler // api behind the token check (adminAPI)
	started time.Time
	// discovered records the machines no rule gives a profile (discover.go).
	discovered *discovery.Registry
}

// runtime is what the daemon works out from the host before it listens.
type runtime struct {
	ifi     *net.Interface
	addr    netip.Addr
	subnets []config.Subnet
	// addr6 and subnets6 are the IPv6 side (dhcp6.go): the address IPv6
	// clients are sent to and the subnets DHCPv6 serves.
	addr6    netip.Addr
	subnets6 []config.Subnet
}

// newDaemon builds the daemon for cfg (with ov already applied): HTTP,
// TFTP, then the DHCP component its mode asks for.
func newDaemon(cfg *config.Config, data []byte, ov overrides, log *logrus.Logger) (*daemon, error) {
	rt, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	d := &daemon{cfg: cfg, ov: ov, rt: rt, inv: &atomic.Pointer[boot.Inventory]{},
		assets: assets.New(cfg.Server.Assets, log), metrics: &metrics.Registry{}, log: log}
	d.assets = withSecureBootImage(d.assets, rt.addr)
	d.inv.Store(boot.NewInventory(cfg))
	d.reload = newReloader(d.inv, ov, log, data)
	d.api, d.started = http.NewServeMux(), time.Now()
	d.routes()
	if err := d.adminAPI(); err != nil {
		return nil, err
	}
	if err := d.openDiscovery(); err != nil {
		return nil, err
	}
	d.server = boot.Server{Addr: rt.addr, HTTPPort: cfg.Server.HTTPPort, Has: d.assets.Has}
	d.server6 = boot.Server{Addr: rt.addr6, HTTPPort: cfg.Server.HTTPPort, Has: d.assets.Has}
	if !rt.addr.IsValid() {
		d.server = d.server6 // IPv6 only
	}
	if err := d.newTimeline(); err != nil {
		return nil, err
	}
	d.observe()
	d.warnBlindAuto()
	web := newHTTPComponent(d)
	d.cluster = newClusterComponent(d)
	d.components = []component{&timelineComponent{d: d}, &discoveryComponent{d: d}, web, newTFTPComponent(d, web), d.cluster}
	switch cfg.DHCP.Mode {
	case config.ModeFull:
		if rt.serves4() {
			d.components = append(d.components, newDHCPComponent(d))
		}
	case config.ModeProxy:
		if rt.addr.IsValid() {
			d.components = append(d.components, newProxyComponent(d))
		}
	case config.ModeOff:
	}
	if c := newDHCP6Component(d); c != nil {
		d.components = append(d.components, c)
	}
	return d, nil
}

// resolve finds the interface, the advertised address and the subnets.
func resolve(cfg *config.Config) (runtime, error) {
	ifi, prefix, err := pickInterface(cfg.Server.Interface)
	if err != nil {
		return runtime{}, err
	}
	rt := runtime{ifi: ifi, addr: prefix.Addr()}
	if cfg.Server.Addr.IsValid() {
		rt.addr = cfg.Server.Addr
	}
	if err := rt.resolve6(cfg); err != nil {
		return runtime{}, err
	}
	if cfg.DHCP.Mode == config.ModeFull && len(rt.subnets) == 0 && len(rt.subnets6) == 0 {
		sn, err := dhcp.AutoSubnet(prefix)
		if err != nil {
			return runtime{}, err
		}
		rt.subnets = []config.Subnet{sn}
	}
	return rt, nil
}

// stop stops the started components, all at once, so that each stops
// taking new work at the same moment; transfers in flight share one
// deadline, server.shutdown_grace from now.
func (d *daemon) stop(started []component) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(d.cfg.Server.ShutdownGrace))
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range started {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Stop(ctx)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		d.log.WithField("grace", d.cfg.Server.ShutdownGrace).Warn("shutdown grace ran out: transfers still in flight were cut off")
	}
	d.log.Info("rackboot stopped")
}

// watch starts the inventory file's watcher; without it SIGHUP still
// reloads.
func (d *daemon) watch(ctx context.Context) {
	if d.cfg.File == config.EmbeddedName {
		return
	}
	if err := watchFile(ctx, d.cfg.File, d.reload, d.log); err != nil {
		d.log.WithError(err).Warn("reload: cannot watch the inventory file; SIGHUP still reloads it")
	}
}
