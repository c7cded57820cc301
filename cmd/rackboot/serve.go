package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcp"
	"github.com/rackboot/rackboot/httpboot"
	"github.com/rackboot/rackboot/leases"
	"github.com/rackboot/rackboot/metrics"
	"github.com/rackboot/rackboot/proxydhcp"
	"github.com/rackboot/rackboot/pxelinux"
	"github.com/rackboot/rackboot/tftp"
)

// newServeCommand runs the DHCP, TFTP and HTTP servers.
func newServeCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--interface IF] [--log-level LEVEL]",
		Short: "Serve DHCP, TFTP and HTTP so machines boot from the network",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(v.GetString("log-level"))
			if err != nil {
				return err
			}
			cfg, err := loadConfig(v.GetString("config"))
			if err != nil {
				return err
			}
			if v.GetBool("proxy") {
				cfg.DHCP.Mode = config.ModeProxy
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, v.GetString("interface"), v.GetBool("proxy"), log)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "inventory file (default: the embedded default inventory)")
	f.String("interface", "", "interface DHCP listens on (overrides server.interface)")
	f.String("log-level", "info", "log level: trace, debug, info, warn or error")
	f.Bool("proxy", false, "proxyDHCP: add boot information beside an existing DHCP server, hand out no addresses (same as dhcp.mode: proxy)")
	f.VisitAll(func(fl *pflag.Flag) { v.BindPFlag(fl.Name, fl) })
	return cmd
}

// loadConfig reads the inventory, or returns the embedded default.
func loadConfig(file string) (*config.Config, error) {
	if file == "" {
		return config.Default(), nil
	}
	cfg, err := config.Load(file)
	if err != nil {
		return nil, fmt.Errorf("refusing to start, the inventory is not valid:\n%w", err)
	}
	return cfg, nil
}

// runtime is what serve works out before it starts listening.
type runtime struct {
	ifi     *net.Interface
	addr    netip.Addr
	subnets []config.Subnet
}

// resolve finds the interface, the advertised address and the subnets.
func resolve(cfg *config.Config, ifFlag string) (runtime, error) {
	name := cfg.Server.Interface
	if ifFlag != "" {
		name = ifFlag
	}
	ifi, prefix, err := pickInterface(name)
	if err != nil {
		return runtime{}, err
	}
	rt := runtime{ifi: ifi, addr: prefix.Addr(), subnets: cfg.DHCP.Subnets}
	if cfg.Server.Addr.IsValid() {
		rt.addr = cfg.Server.Addr
	}
	if cfg.DHCP.Mode == config.ModeFull && len(rt.subnets) == 0 {
		sn, err := dhcp.AutoSubnet(prefix)
		if err != nil {
			return runtime{}, err
		}
		rt.subnets = []config.Subnet{sn}
	}
	return rt, nil
}

// serve runs every server until ctx ends or one fails.
func serve(ctx context.Context, cfg *config.Config, ifFlag string, proxyFlag bool, log *logrus.Logger) error {
	rt, err := resolve(cfg, ifFlag)
	if err != nil {
		return err
	}
	var inv atomic.Pointer[boot.Inventory]
	reg := &metrics.Registry{}
	inv.Store(boot.NewInventory(cfg))
	store := assets.New(cfg.Server.Assets, log)
	info := dhcp.ServerInfo{Addr: rt.addr, HTTPPort: cfg.Server.HTTPPort, Has: store.Has}
	log.WithFields(logrus.Fields{
		"version": version, "config": cfg.File, "interface": rt.ifi.Name, "address": rt.addr,
		"dhcp": cfg.DHCP.Mode, "http_port": cfg.Server.HTTPPort, "tftp_port": cfg.Server.TFTPPort,
		"embedded": store.Embedded(),
	}).Info("rackboot starting")
	for _, sn := range rt.subnets {
		log.WithFields(logrus.Fields{"cidr": sn.Prefix, "range": sn.Range}).Info("dhcp subnet")
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var running []func()
	defer func() {
		for i := len(running) - 1; i >= 0; i-- {
			running[i]()
		}
	}()

	stopHTTP, err := startHTTP(cfg, &inv, store, info, reg, log, cancel)
	if err != nil {
		return err
	}
	running = append(running, stopHTTP)
	stopTFTP, err := startTFTP(cfg, &inv, store, reg, log, cancel)
	if err != nil {
		return err
	}
	running = append(running, stopTFTP)
	if cfg.DHCP.Mode == config.ModeFull {
		stopDHCP, err := startDHCP(ctx, cfg, rt, &inv, info, reg, log, cancel)
		if err != nil {
			return err
		}
		running = append(running, stopDHCP)
	}
	if cfg.DHCP.Mode == config.ModeProxy {
		stopProxy, err := startProxy(ctx, rt, &inv, info, reg, log, cancel)
		if err != nil {
			return err
		}
		running = append(running, stopProxy)
	}
	go reloader{inv: &inv, proxy: proxyFlag, log: log}.onHangup(ctx)
	<-ctx.Done()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("rackboot stopping")
	return nil
}

// startHTTP listens on every address at server.http_port.
func startHTTP(cfg *config.Config, inv *atomic.Pointer[boot.Inventory], store *assets.Store, info dhcp.ServerInfo, reg *metrics.Registry, log *logrus.Logger, fail context.CancelCauseFunc) (func(), error) {
	var signer *httpboot.Signer
	if cfg.Server.SigningKey != "" {
		var err error
		if signer, err = httpboot.LoadSigningKey(cfg.Server.SigningKey, []byte(os.Getenv("RACKBOOT_SIGNING_PASSPHRASE"))); err != nil {
			return nil, fmt.Errorf("http: %w", err)
		}
		log.WithFields(logrus.Fields{"file": cfg.Server.SigningKey, "key_id": signer.KeyID()}).Info("signing scripts and configs")
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Server.HTTPPort))
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	srv := httpboot.New(httpboot.Options{
		Inventory: inv.Load, Assets: store, Log: log, Signer: signer, TFTPPort: cfg.Server.TFTPPort, Metrics: reg,
		BaseURL: "http://" + netip.AddrPortFrom(info.Addr, uint16(info.HTTPPort)).String(),
	})
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("http: %w", err))
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// startTFTP listens on every address at server.tftp_port; pxelinux.cfg/
// names are generated from the inventory (docs/tftp.md).
func startTFTP(cfg *config.Config, inv *atomic.Pointer[boot.Inventory], store *assets.Store, reg *metrics.Registry, log *logrus.Logger, fail context.CancelCauseFunc) (func(), error) {
	conn, err := net.ListenPacket("udp4", ":"+strconv.Itoa(cfg.Server.TFTPPort))
	if err != nil {
		return nil, fmt.Errorf("tftp: %w", err)
	}
	px := pxelinux.NewResolver(inv.Load)
	srv := tftp.New(tftp.Options{
		Files: store, Log: log, MaxTransfers: cfg.Server.TFTPMaxTransfers,
		Generated: map[string]tftp.GenerateFunc{pxelinux.Dir: func(name string, client netip.Addr) ([]byte, error) {
			res, err := px.Resolve(strings.TrimPrefix(name, pxelinux.Dir), client)
			return res.Body, err
		}},
	})
	reg.Add("tftp", srv.Counters.Snapshot)
	go func() {
		if err := srv.Serve(conn); err != nil && !errors.Is(err, net.ErrClosed) {
			fail(fmt.Errorf("tftp: %w", err))
		}
	}()
	return srv.Shutdown, nil
}

// startDHCP opens the lease store in server.data_dir and the raw socket on
// the interface, and answers requests (docs/dhcp.md).
func startDHCP(ctx context.Context, cfg *config.Config, rt runtime, inv *atomic.Pointer[boot.Inventory], info dhcp.ServerInfo, reg *metrics.Registry, log *logrus.Logger, fail context.CancelCauseFunc) (func(), error) {
	store, err := leases.Open(cfg.Server.DataDir)
	if err != nil {
		return nil, fmt.Errorf("dhcp: %w", err)
	}
	conn, err := dhcp.ListenRaw(rt.ifi, rt.addr, true)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("dhcp: %w", err)
	}
	d := cfg.DHCP
	hc := dhcp.HandlerConfig{
		Inventory: inv.Load, Subnets: rt.subnets, Server: info, Log: log, Store: store,
		OfferHold: time.Duration(d.OfferHold), DeclineHold: time.Duration(d.DeclineHold),
		ProbeTimeout: time.Duration(d.ProbeTimeout), MaxNewLeasesPerSecond: d.MaxNewLeasesPerSecond,
	}
	var prober *dhcp.NetProber
	if d.ConflictDetection == nil || *d.ConflictDetection {
		if prober, err = dhcp.NewNetProber(rt.ifi); err != nil {
			conn.Close()
			store.Close()
			return nil, fmt.Errorf("dhcp: conflict detection: %w", err)
		}
		if !prober.ICMP() {
			log.Warn("dhcp: no ICMP socket, relayed subnets are not probed for conflicts")
		}
		hc.Prober, hc.Go = prober, dhcp.NewProbeRunner(dhcp.DefaultProbers)
	}
	h := dhcp.NewHandler(hc)
	srv := dhcp.NewServer(conn, h, log, max(d.Workers, 1))
	reg.Add("dhcp", srv.Counters.Snapshot)
	reg.Add("dhcp", h.Metrics.Snapshot)
	done := make(chan struct{})
	dctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(done)
		go h.Maintain(dctx, dhcp.SweepInterval)
		if err := srv.Serve(dctx); err != nil {
			fail(fmt.Errorf("dhcp: %w", err))
		}
	}()
	return func() {
		cancel()
		<-done
		if prober != nil {
			prober.Close()
		}
		if err := store.Close(); err != nil {
			log.WithError(err).Error("dhcp: closing the lease store")
		}
		log.WithFields(logrus.Fields{"server": srv.Counters.Snapshot(), "handler": h.Metrics.Snapshot()}).Info("dhcp: totals")
	}, nil
}

// startProxy reads DHCP port 67 through the raw socket without binding it
// (a DHCP server on this host may hold it) and serves the PXE boot server
// port 4011.
func startProxy(ctx context.Context, rt runtime, inv *atomic.Pointer[boot.Inventory], info dhcp.ServerInfo, reg *metrics.Registry, log *logrus.Logger, fail context.CancelCauseFunc) (func(), error) {
	bs, err := net.ListenPacket("udp4", ":"+strconv.Itoa(proxydhcp.BootServerPort))
	if err != nil {
		return nil, fmt.Errorf("proxydhcp: %w", err)
	}
	conn, err := dhcp.ListenRaw(rt.ifi, rt.addr, false)
	if err != nil {
		bs.Close()
		return nil, fmt.Errorf("proxydhcp: %w", err)
	}
	r := proxydhcp.New(inv.Load, info, log)
	log.WithFields(logrus.Fields{"interface": rt.ifi.Name, "address": rt.addr}).
		Info("proxydhcp: answering PXE clients beside the network's DHCP server (port 67 read through a raw socket, boot server on port 4011)")
	srv := dhcp.NewServer(conn, r, log, 2)
	reg.Add("proxydhcp", r.Counters.Snapshot)
	reg.Add("proxydhcp", srv.Counters.Snapshot)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	run := func(name string, f func(context.Context) error) {
		defer func() { done <- struct{}{} }()
		if err := f(pctx); err != nil {
			fail(fmt.Errorf("proxydhcp %s: %w", name, err))
		}
	}
	go run("port 67", srv.Serve)
	go run("port 4011", func(ctx context.Context) error { return r.ServeBootServer(ctx, bs) })
	return func() { cancel(); <-done; <-done }, nil
}
