package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/config"
)

// newServeCommand runs the DHCP, TFTP and HTTP servers.
func newServeCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--interface IF] [--proxy] [--store etcd://…] [--log-level LEVEL]",
		Short: "Serve DHCP, TFTP and HTTP so machines boot from the network",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(v.GetString("log-level"), v.GetString("log-format"))
			if err != nil {
				return err
			}
			cfg, data, err := loadConfig(v.GetString("config"))
			if err != nil {
				return err
			}
			ov := overridesFrom(v)
			ov.apply(cfg)
			d, err := newDaemon(cfg, data, ov, log)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			tuneGC(os.Getenv)
			return d.run(ctx)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "inventory file (default: the embedded default inventory)")
	f.String("interface", "", "interface DHCP listens on (overrides server.interface)")
	f.String("log-level", "info", "log level: trace, debug, info, warn or error")
	f.String("log-format", "", "log format: text or json (default: text on a terminal, JSON otherwise)")
	f.String("store", "", "lease store: etcd://host:2379[,host…][/prefix] shares leases and clients with other instances (overrides server.store; docs/cluster.md)")
	f.Bool("proxy", false, "proxyDHCP: add boot information beside an existing DHCP server, hand out no addresses (same as dhcp.mode: proxy)")
	return cmd
}

// loadConfig reads the inventory, or returns the embedded default (and
// nil data).
func loadConfig(file string) (*config.Config, []byte, error) {
	if file == "" {
		return config.Default(), nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("refusing to start: %w", err)
	}
	cfg, err := config.Parse(file, data)
	if err != nil {
		return nil, nil, fmt.Errorf("refusing to start, the inventory is not valid:\n%w", err)
	}
	return cfg, data, nil
}

// run starts every component in order, waits until ctx ends or one fails,
// and stops them in reverse order.
func (d *daemon) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	d.logStart()
	var started []component
	defer func() { d.stop(started) }()
	for _, c := range d.components {
		if err := c.Start(ctx, cancel); err != nil {
			return fmt.Errorf("%s: %w", c.Name(), err)
		}
		started = append(started, c)
	}
	go d.reload.onHangup(ctx)
	d.watch(ctx)
	<-ctx.Done()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	d.log.WithField("grace", d.cfg.Server.ShutdownGrace).Info("rackboot stopping: no new requests, transfers in flight may finish")
	return nil
}

func (d *daemon) logStart() {
	d.log.WithFields(logrus.Fields{
		"version": version, "config": d.cfg.File, "interface": d.rt.ifi.Name, "address": d.rt.addr, "address6": d.rt.addr6,
		"dhcp": d.cfg.DHCP.Mode, "http_port": d.cfg.Server.HTTPPort, "tftp_port": d.cfg.Server.TFTPPort,
		"embedded": d.assets.Embedded(),
	}).Info("rackboot starting")
	for _, sn := range append(append([]config.Subnet(nil), d.rt.subnets...), d.rt.subnets6...) {
		d.log.WithFields(logrus.Fields{"cidr": sn.Prefix, "range": sn.Range}).Info("dhcp subnet")
	}
}
