package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/httpboot"
	"github.com/rackboot/rackboot/timeline"
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

// outcome is told each boot that ends or stalls (metrics hook).
func (d *daemon) outcome(timeline.State, time.Duration) {}

// sink is where the servers send their events: the timeline, or nil.
func (d *daemon) sink() events.Sink {
	if d.timeline == nil {
		return nil
	}
	return d.timeline
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

func (c *timelineComponent) Stop(context.Context) { c.stop() }

// mounts are the handlers the HTTP server serves beside the boot routes.
func (d *daemon) mounts() []httpboot.Mount { return nil }
