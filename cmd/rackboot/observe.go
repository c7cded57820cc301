package main

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rackboot/rackboot/api"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcp"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/httpboot"
	"github.com/rackboot/rackboot/metrics"
	"github.com/rackboot/rackboot/timeline"
	"github.com/rackboot/rackboot/ui"
)

// newTimeline builds the per-machine boot timeline for cfg; its last
// boots live in data_dir/timeline.
func (d *daemon) newTimeline() error {
	tl := d.cfg.Timeline
	if !tl.On() {
		return nil
	}
	s, err := timeline.New(timeline.Config{
		MaxMachines: tl.MaxMachines, MaxEvents: tl.MaxEvents, StallAfter: time.Duration(tl.StallAfter),
		Dir: filepath.Join(d.cfg.Server.DataDir, "timeline"), Log: d.log, Outcome: d.outcome,
	})
	if err != nil {
		return err
	}
	d.timeline = s
	return nil
}

// outcome is told each boot that ends or stalls: rackboot_boots_total and
// the boot-duration histogram.
func (d *daemon) outcome(st timeline.State, took time.Duration) {
	if d.obs.ev != nil {
		d.obs.ev.Boot(string(st), took)
	}
}

// observer is what the daemon shows about its machines: the API (and,
// mounted at /, the dashboard) and the full DHCP server's handler for the
// leases per subnet, set once it starts.
type observer struct {
	api  *api.API
	dhcp atomic.Pointer[dhcp.Handler]
	ev   *metrics.Events // the metrics counted from the events
	http *metrics.HTTP   // the HTTP requests' metrics
}

// observe registers the machines API on the daemon's /api/ mux.
func (d *daemon) observe() {
	o := api.Options{Inventory: d.inv.Load, Log: d.log, Leases: d.leases(), Discovered: d.discovered}
	if d.timeline != nil {
		o.Timeline, o.Reports = d.timeline, d.timeline
	}
	d.obs.api = api.New(o)
	d.obs.api.Register(d.api)
	d.obs.ev, d.obs.http = metrics.NewEvents(), metrics.NewHTTP()
	cs := []prometheus.Collector{d.obs.ev, d.obs.http}
	if read := d.leases(); read != nil {
		cs = append(cs, metrics.NewLeases(func() []metrics.Usage {
			var out []metrics.Usage
			for _, u := range read() {
				out = append(out, metrics.Usage{Subnet: u.CIDR.String(), InUse: u.InUse, Offered: u.Offered, Quarantined: u.Quarantined, Free: u.Free})
			}
			return out
		}))
	}
	err := errors.Join(d.metrics.Register(cs...), d.metrics.Add("inventory", func() map[string]uint64 {
		st := d.reload.Status()
		return map[string]uint64{"reloads": uint64(st.Reloads), "reload_failures": uint64(st.Refused)}
	}))
	if err != nil {
		d.log.WithError(err).Error("metrics: registering the boot metrics")
	}
}

// leases is the pool usage of the full DHCP server, nil in other modes.
func (d *daemon) leases() func() []dhcp.Usage {
	if d.cfg.DHCP.Mode != config.ModeFull {
		return nil
	}
	return func() []dhcp.Usage {
		if h := d.obs.dhcp.Load(); h != nil {
			return h.Usage()
		}
		return nil
	}
}

// sink is where the servers send their events: the timeline and the
// event metrics, or nil when timeline.enabled is false (no events at all).
func (d *daemon) sink() events.Sink {
	if d.timeline == nil {
		return nil
	}
	return events.Tee(d.timeline, d.obs.ev)
}

// timelineComponent runs the timeline's stall detection and writes the
// last boots to disk.
type timelineComponent struct {
	d *daemon
	loops
}

func (c *timelineComponent) Name() string { return "timeline" }

func (c *timelineComponent) Start(ctx context.Context, fail context.CancelCauseFunc) error {
	if c.d.timeline == nil {
		c.run(ctx, fail, "timeline")
		return nil
	}
	c.run(ctx, fail, "timeline", func(ctx context.Context) error {
		c.d.timeline.Run(ctx)
		return nil
	})
	return nil
}

func (c *timelineComponent) Stop(context.Context) {
	c.d.obs.api.Shutdown()
	c.stop()
}

// mounts are the handlers the HTTP server serves beside the boot routes:
// the dashboard at / and /ui/.
func (d *daemon) mounts() []httpboot.Mount {
	h := ui.Handler()
	return []httpboot.Mount{{Prefix: "/", Handler: h}, {Prefix: ui.Prefix, Handler: h}}
}

// macAt names the machine at a client address for log lines; nil without
// a timeline.
func (d *daemon) macAt() func(netip.Addr) string {
	if d.timeline == nil {
		return nil
	}
	return func(a netip.Addr) string {
		mac, _ := d.timeline.MACAt(a)
		return mac.String()
	}
}
