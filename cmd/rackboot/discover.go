package main

import (
	"context"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/discovery"
)

// discoverySaveEvery is how often changed discovery records are written.
const discoverySaveEvery = 5 * time.Second

// openDiscovery opens the discovered machines kept in data_dir.
func (d *daemon) openDiscovery() error {
	reg, err := discovery.Open(d.cfg.Server.DataDir, 0)
	if err != nil {
		return err
	}
	d.discovered = reg
	return nil
}

// seen wraps a DHCP responder (full or proxy, port 67 or 4011) so that
// every request from a network-booting client that no rule gives a
// profile is recorded as discovered before it is answered as before.
func (d *daemon) seen(r dhcpwire.Responder) dhcpwire.Responder {
	if d.discovered == nil {
		return r
	}
	return seenResponder{next: r, d: d}
}

type seenResponder struct {
	next dhcpwire.Responder
	d    *daemon
}

func (s seenResponder) Respond(req *dhcpv4.DHCPv4, send func(*dhcpv4.DHCPv4)) {
	if t := dhcpwire.MessageTypeOf(req); t == dhcpv4.MessageTypeDiscover || t == dhcpv4.MessageTypeRequest || t == dhcpv4.MessageTypeInform {
		c := dhcpwire.Classify(req)
		if discovery.Unknown(s.d.inv.Load(), c.Facts) {
			s.d.discovered.Observe(req, c, time.Now())
		}
	}
	s.next.Respond(req, send)
}

// discoveryComponent writes the changed records every few seconds and
// at shutdown.
type discoveryComponent struct {
	d *daemon
	loops
}

func (c *discoveryComponent) Name() string { return "discovery" }

func (c *discoveryComponent) Start(ctx context.Context, fail context.CancelCauseFunc) error {
	c.run(ctx, fail, "discovery", func(ctx context.Context) error {
		t := time.NewTicker(discoverySaveEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				c.save()
			}
		}
	})
	return nil
}

func (c *discoveryComponent) Stop(context.Context) {
	c.stop()
	c.save()
}

func (c *discoveryComponent) save() {
	if err := c.d.discovered.Save(); err != nil {
		c.d.log.WithError(err).WithFields(logrus.Fields{"dir": c.d.cfg.Server.DataDir}).Warn("discovery: saving the discovered machines")
	}
}
