package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/dhcp"
	"github.com/rackboot/rackboot/dhcpsock"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/grub"
	"github.com/rackboot/rackboot/httpboot"
	"github.com/rackboot/rackboot/leases"
	"github.com/rackboot/rackboot/proxydhcp"
	"github.com/rackboot/rackboot/pxelinux"
	"github.com/rackboot/rackboot/tftp"
)

// httpComponent serves HTTP on every address at server.http_port.
type httpComponent struct {
	d   *daemon
	srv *httpboot.Server
}

func newHTTPComponent(d *daemon) *httpComponent { return &httpComponent{d: d} }

func (c *httpComponent) Name() string { return "http" }

func (c *httpComponent) Start(_ context.Context, fail context.CancelCauseFunc) error {
	cfg := c.d.cfg
	var signer *httpboot.Signer
	if cfg.Server.SigningKey != "" {
		var err error
		if signer, err = httpboot.LoadSigningKey(cfg.Server.SigningKey, []byte(os.Getenv("RACKBOOT_SIGNING_PASSPHRASE"))); err != nil {
			return err
		}
		c.d.log.WithFields(logrus.Fields{"file": cfg.Server.SigningKey, "key_id": signer.KeyID()}).Info("signing scripts and configs")
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Server.HTTPPort))
	if err != nil {
		return err
	}
	c.srv = httpboot.New(httpboot.Options{
		Inventory: c.d.inv.Load, Assets: c.d.assets, Log: c.d.log, Signer: signer, TFTPPort: cfg.Server.TFTPPort,
		Metrics: c.d.metrics, BaseURL: c.d.server.BaseURL(), BaseURL6: c.d.baseURL6(), API: c.d.apiAuth, Events: c.d.sink(), Mounts: c.d.mounts(),
		Requests: c.d.obs.http.Observe,
	})
	go func() {
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("http: %w", err))
		}
	}()
	return nil
}

// Stop closes the listener and lets requests in flight (a kernel or
// initrd download) finish until ctx ends.
func (c *httpComponent) Stop(ctx context.Context) {
	if err := c.srv.Shutdown(ctx); err != nil {
		c.d.log.WithError(err).Warn("http: downloads still running at the end of the shutdown grace were cut off")
	}
}

// tftpComponent serves TFTP on every address at server.tftp_port;
// pxelinux.cfg/ names are generated from the inventory, their command
// lines rendered by the HTTP server's templates (docs/tftp.md).
type tftpComponent struct {
	d   *daemon
	web *httpComponent
	srv *tftp.Server
}

func newTFTPComponent(d *daemon, web *httpComponent) *tftpComponent {
	return &tftpComponent{d: d, web: web}
}

func (c *tftpComponent) Name() string { return "tftp" }

func (c *tftpComponent) Start(_ context.Context, fail context.CancelCauseFunc) error {
	cfg := c.d.cfg
	conn, err := net.ListenPacket("udp4", ":"+strconv.Itoa(cfg.Server.TFTPPort))
	if err != nil {
		return err
	}
	px := pxelinux.NewResolver(c.d.inv.Load).WithCmdline(c.web.srv.Cmdline)
	gen := map[string]tftp.GenerateFunc{pxelinux.Dir: func(name string, client netip.Addr) ([]byte, error) {
		res, err := px.Resolve(strings.TrimPrefix(name, pxelinux.Dir), client)
		return res.Body, err
	}}
	addGRUBConfigs(gen, grub.NewResolver(c.d.inv.Load).WithCmdline(c.web.srv.Cmdline))
	c.srv = tftp.New(tftp.Options{
		Files: c.d.assets, Log: c.d.log, MaxTransfers: cfg.Server.TFTPMaxTransfers, Events: c.d.sink(), MACOf: c.d.macAt(),
		Generated: gen,
	})
	if err := c.d.metrics.Add("tftp", c.srv.Counters.Snapshot); err != nil {
		conn.Close()
		return err
	}
	go func() {
		if err := c.srv.Serve(conn); err != nil && !errors.Is(err, net.ErrClosed) {
			fail(fmt.Errorf("tftp: %w", err))
		}
	}()
	return c.serve6(fail)
}

// Stop closes port 69 and lets transfers in flight finish until ctx ends.
func (c *tftpComponent) Stop(ctx context.Context) {
	if err := c.srv.Drain(ctx); err != nil {
		c.d.log.WithError(err).Warn("tftp: transfers still running at the end of the shutdown grace were cut off")
	}
}

// loops runs receive loops until Stop.
type loops struct {
	cancel context.CancelFunc
	done   chan struct{}
	n      int
}

// run starts each serve function under a context of its own; one that
// fails ends the daemon through fail.
func (l *loops) run(ctx context.Context, fail context.CancelCauseFunc, name string, serve ...func(context.Context) error) {
	ctx, l.cancel = context.WithCancel(ctx)
	l.done, l.n = make(chan struct{}, len(serve)), len(serve)
	for _, f := range serve {
		go func() {
			defer func() { l.done <- struct{}{} }()
			if err := f(ctx); err != nil {
				fail(fmt.Errorf("%s: %w", name, err))
			}
		}()
	}
}

func (l *loops) stop() {
	l.cancel()
	for range l.n {
		<-l.done
	}
}

// dhcpComponent is the full DHCP server: the lease store in
// server.data_dir, the raw socket on the interface, conflict probes
// (docs/dhcp.md).
type dhcpComponent struct {
	d      *daemon
	store  leases.Store
	prober *dhcpsock.NetProber
	h      *dhcp.Handler
	srv    *dhcpwire.Server
	loops
}

func newDHCPComponent(d *daemon) *dhcpComponent { return &dhcpComponent{d: d} }

func (c *dhcpComponent) Name() string { return "dhcp" }

func (c *dhcpComponent) Start(ctx context.Context, fail context.CancelCauseFunc) (err error) {
	cfg, rt := c.d.cfg.DHCP, c.d.rt
	if c.store, _, err = c.d.cluster.openStore(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			c.closeAll()
		}
	}()
	conn, err := dhcpsock.ListenRaw(rt.ifi, rt.addr, true)
	if err != nil {
		return err
	}
	hc := dhcp.HandlerConfig{
		Inventory: c.d.inv.Load, Subnets: rt.subnets, Server: c.d.server, Log: c.d.log, Store: c.store,
		OfferHold: time.Duration(cfg.OfferHold), DeclineHold: time.Duration(cfg.DeclineHold),
		ProbeTimeout: time.Duration(cfg.ProbeTimeout), MaxNewLeasesPerSecond: cfg.MaxNewLeasesPerSecond, Refusals: c.d.refusals(),
		Prefer: c.d.cluster.prefer(),
		Events: c.d.sink(),
	}
	if cfg.ConflictDetection == nil || *cfg.ConflictDetection {
		if c.prober, err = dhcpsock.NewNetProber(rt.ifi); err != nil {
			conn.Close()
			return fmt.Errorf("conflict detection: %w", err)
		}
		if !c.prober.ICMP() {
			c.d.log.Warn("dhcp: no ICMP socket, relayed subnets are not probed for conflicts")
		}
		hc.Prober, hc.Go = c.prober, dhcp.NewProbeRunner(dhcp.DefaultProbers)
	}
	if c.h, err = dhcp.NewHandler(hc); err == nil {
		c.d.obs.dhcp.Store(c.h)
	}
	if err != nil {
		conn.Close()
		return err
	}
	c.srv = dhcpwire.NewServer(conn, c.d.seen(c.d.cluster.filter(c.h)), dhcpwire.RouteRFC2131, c.d.log, max(cfg.Workers, 1))
	if err := errors.Join(c.d.metrics.Add("dhcp", c.srv.Counters.Snapshot), c.d.metrics.Add("dhcp", c.h.Metrics.Snapshot)); err != nil {
		conn.Close()
		return err
	}
	c.run(ctx, fail, "dhcp", c.srv.Serve, func(ctx context.Context) error {
		c.h.Maintain(ctx, dhcp.SweepInterval)
		return nil
	})
	return nil
}

// Stop ends the receive loops, then closes the lease store, which
// writes and syncs every lease committed before it returns.
func (c *dhcpComponent) Stop(context.Context) {
	c.stop()
	c.closeAll()
	c.d.log.WithFields(logrus.Fields{"server": c.srv.Counters.Snapshot(), "handler": c.h.Metrics.Snapshot()}).Info("dhcp: totals")
}

func (c *dhcpComponent) closeAll() {
	if c.prober != nil {
		c.prober.Close()
	}
	if err := c.store.Close(); err != nil {
		c.d.log.WithError(err).Error("dhcp: closing the lease store")
	}
}

// proxyComponent is proxyDHCP: port 67 read through the raw socket without
// binding it (a DHCP server on this host may hold it), and the PXE boot
// server port 4011, both through the same receive loop.
type proxyComponent struct {
	d *daemon
	loops
}

func newProxyComponent(d *daemon) *proxyComponent { return &proxyComponent{d: d} }

func (c *proxyComponent) Name() string { return "proxydhcp" }

func (c *proxyComponent) Start(ctx context.Context, fail context.CancelCauseFunc) error {
	rt := c.d.rt
	bs, err := net.ListenPacket("udp4", ":"+strconv.Itoa(proxydhcp.BootServerPort))
	if err != nil {
		return err
	}
	conn, err := dhcpsock.ListenRaw(rt.ifi, rt.addr, false)
	if err != nil {
		bs.Close()
		return err
	}
	r := proxydhcp.New(c.d.inv.Load, c.d.server, c.d.log, c.d.sink()).WithRefusals(c.d.refusals())
	c.d.log.WithFields(logrus.Fields{"interface": rt.ifi.Name, "address": rt.addr}).
		Info("proxydhcp: answering PXE clients beside the network's DHCP server (port 67 read through a raw socket, boot server on port 4011)")
	port67 := dhcpwire.NewServer(conn, c.d.seen(c.d.cluster.filter(r)), dhcpwire.RouteRFC2131, c.d.log, 2)
	port4011 := dhcpwire.NewServer(dhcpwire.NewPacketConn(bs), c.d.seen(r.BootServer()), dhcpwire.RouteToSource, c.d.log, 2)
	if err := errors.Join(c.d.metrics.Add("proxydhcp", r.Counters.Snapshot),
		c.d.metrics.Add("proxydhcp_port67", port67.Counters.Snapshot),
		c.d.metrics.Add("proxydhcp_port4011", port4011.Counters.Snapshot)); err != nil {
		conn.Close()
		bs.Close()
		return err
	}
	c.run(ctx, fail, "proxydhcp", port67.Serve, port4011.Serve)
	return nil
}

func (c *proxyComponent) Stop(context.Context) { c.stop() }
