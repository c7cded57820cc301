package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcp6"
	"github.com/rackboot/rackboot/dhcpsock"
	"github.com/rackboot/rackboot/leases"
)

// resolve6 splits dhcp.subnets by family and finds the IPv6 address to
// advertise: server.address (IPv6) or server.address6, else the
// interface's first global or unique-local address.
func (rt *runtime) resolve6(cfg *config.Config) error {
	for _, sn := range cfg.DHCP.Subnets {
		if sn.IPv6() {
			rt.subnets6 = append(rt.subnets6, sn)
		} else {
			rt.subnets = append(rt.subnets, sn)
		}
	}
	rt.addr6 = cfg.Server.Addr6
	if !rt.addr6.IsValid() {
		rt.addr6 = ipv6Global(rt.ifi)
	}
	switch full := cfg.DHCP.Mode == config.ModeFull; {
	case full && len(rt.subnets6) > 0 && !rt.addr6.IsValid():
		return fmt.Errorf("dhcp.subnets has IPv6 subnets, but interface %s has no global IPv6 address to send clients to: add one or set server.address6", rt.ifi.Name)
	case full && len(rt.subnets) > 0 && !rt.addr.IsValid():
		return fmt.Errorf("dhcp.subnets has IPv4 subnets, but interface %s has no IPv4 address: add one or set server.address", rt.ifi.Name)
	case !rt.addr.IsValid() && !rt.addr6.IsValid():
		return fmt.Errorf("interface %s has neither an IPv4 nor a global IPv6 address to send clients to", rt.ifi.Name)
	}
	return nil
}

// serves4 reports whether full mode runs the DHCPv4 server: the host has
// an IPv4 address and the file names IPv4 subnets or no IPv6 ones (then
// the subnet comes from the interface).
func (rt runtime) serves4() bool {
	return rt.addr.IsValid() && (len(rt.subnets) > 0 || len(rt.subnets6) == 0)
}

// ipv6Global is the interface's first global or unique-local IPv6
// address, or invalid.
func ipv6Global(ifi *net.Interface) netip.Addr {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.To4() != nil {
			continue
		}
		if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.IsGlobalUnicast() && !ip.IsLinkLocalUnicast() {
			return ip
		}
	}
	return netip.Addr{}
}

// firstIPv6Interface is the first up, non-loopback interface with a
// global IPv6 address, or nil.
func firstIPv6Interface(ifis []net.Interface) *net.Interface {
	for i := range ifis {
		ifi := &ifis[i]
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 && ipv6Global(ifi).IsValid() {
			return ifi
		}
	}
	return nil
}

// dhcp6Component is the DHCPv6 responder (docs/ipv6.md): port 547 on the
// interface, the client's MAC read through AF_PACKET; in full mode the
// IPv6 subnets' addresses with leases in data_dir/leases6.wal, in proxy
// mode boot options only, and the boot server port 4011 where OVMF sends
// its Request after a proxy Advertise.
type dhcp6Component struct {
	d     *daemon
	proxy bool
	store *leases.Log
	h     *dhcp6.Handler
	srvs  []*dhcp6.Server
	loops
}

// newDHCP6Component returns the component when the configuration asks for
// DHCPv6: full mode with IPv6 subnets, or proxy mode on a host with an
// IPv6 address to send clients to; else nil.
func newDHCP6Component(d *daemon) *dhcp6Component {
	switch {
	case d.cfg.DHCP.Mode == config.ModeFull && len(d.rt.subnets6) > 0:
		return &dhcp6Component{d: d}
	case d.cfg.DHCP.Mode == config.ModeProxy && d.rt.addr6.IsValid():
		return &dhcp6Component{d: d, proxy: true}
	}
	return nil
}

func (c *dhcp6Component) Name() string { return "dhcp6" }

// serverDUID is the server's DUID-LL from the interface's MAC (RFC 8415
// section 11.4): stable across restarts without a state file.
func serverDUID(ifi *net.Interface) dhcpv6.DUID {
	mac := ifi.HardwareAddr
	if len(mac) != 6 {
		mac = net.HardwareAddr{0x02, 0, 0, 0, 0, byte(ifi.Index)}
	}
	return &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac}
}

func (c *dhcp6Component) Start(ctx context.Context, fail context.CancelCauseFunc) (err error) {
	rt, cfg := c.d.rt, c.d.cfg
	hc := dhcp6.Config{Inventory: c.d.inv.Load, Server: c.d.server6, ServerID: serverDUID(rt.ifi), Proxy: c.proxy,
		Subnets: rt.subnets6, OfferHold: time.Duration(cfg.DHCP.OfferHold), DeclineHold: time.Duration(cfg.DHCP.DeclineHold), Log: c.d.log}
	if !c.proxy {
		if c.store, err = leases.Open6(cfg.Server.DataDir); err != nil {
			return err
		}
		hc.Store = c.store
	}
	defer func() {
		if err != nil {
			c.closeStore()
		}
	}()
	if c.h, err = dhcp6.NewHandler(hc); err != nil {
		return err
	}
	conn, err := dhcpsock.Listen6(rt.ifi)
	if err != nil {
		return err
	}
	c.srvs = []*dhcp6.Server{dhcp6.NewServer(conn, c.h, c.d.log, max(cfg.DHCP.Workers, 1))}
	if c.proxy {
		bs, err := net.ListenPacket("udp6", "[::]:"+strconv.Itoa(dhcp6.BootServerPort))
		if err != nil {
			conn.Close()
			return err
		}
		c.srvs = append(c.srvs, dhcp6.NewServer(dhcp6.NewUDPConn(bs), c.h, c.d.log, 2))
	}
	if err := c.addMetrics(); err != nil {
		for _, s := range c.srvs {
			s.Close()
		}
		return err
	}
	c.d.log.WithFields(logrus.Fields{"interface": rt.ifi.Name, "address": rt.addr6, "proxy": c.proxy, "reply_port": conn.Port()}).
		Info("dhcp6: listening on port 547 (ff02::1:2)")
	serve := make([]func(context.Context) error, len(c.srvs))
	for i, s := range c.srvs {
		serve[i] = s.Serve
	}
	c.run(ctx, fail, "dhcp6", serve...)
	return nil
}

func (c *dhcp6Component) addMetrics() error {
	errs := []error{c.d.metrics.Add("dhcp6", c.h.Metrics.Snapshot), c.d.metrics.Add("dhcp6", c.srvs[0].Counters.Snapshot)}
	if len(c.srvs) > 1 {
		errs = append(errs, c.d.metrics.Add("dhcp6_port4011", c.srvs[1].Counters.Snapshot))
	}
	return errors.Join(errs...)
}

// Stop ends the receive loops, then closes the lease store.
func (c *dhcp6Component) Stop(context.Context) {
	c.stop()
	c.closeStore()
	c.d.log.WithFields(logrus.Fields{"server": c.srvs[0].Counters.Snapshot(), "handler": c.h.Metrics.Snapshot()}).Info("dhcp6: totals")
}

func (c *dhcp6Component) closeStore() {
	if c.store == nil {
		return
	}
	if err := c.store.Close(); err != nil {
		c.d.log.WithError(err).Error("dhcp6: closing the lease store")
	}
}

// baseURL6 is the HTTP base URL for clients that come over IPv6, when the
// daemon has an IPv6 address to send them to.
func (d *daemon) baseURL6() string {
	if !d.rt.addr6.IsValid() {
		return ""
	}
	return d.server6.BaseURL()
}

// serve6 also serves TFTP on [::]:tftp_port when the daemon has an IPv6
// address (UEFI PXE over IPv6 loads ipxe.efi from tftp://[addr]/).
func (c *tftpComponent) serve6(fail context.CancelCauseFunc) error {
	if !c.d.rt.addr6.IsValid() {
		return nil
	}
	conn, err := net.ListenPacket("udp6", "[::]:"+strconv.Itoa(c.d.cfg.Server.TFTPPort))
	if err != nil {
		return fmt.Errorf("tftp over IPv6: %w", err)
	}
	go func() {
		if err := c.srv.Serve(conn); err != nil && !errors.Is(err, net.ErrClosed) {
			fail(fmt.Errorf("tftp over IPv6: %w", err))
		}
	}()
	return nil
}

// bothLogs is the data directory's two lease logs as one store for
// `rackboot leases import`: IPv4 leases go to leases.wal, IPv6 ones to
// leases6.wal.
type bothLogs struct{ v4, v6 *leases.Log }

func openLogs(dir string) (committingStore, error) {
	v4, err := leases.Open(dir)
	if err != nil {
		return nil, err
	}
	v6, err := leases.Open6(dir)
	if err != nil {
		v4.Close()
		return nil, err
	}
	return bothLogs{v4, v6}, nil
}

func (b bothLogs) log(l leases.Lease) *leases.Log {
	if l.IP.Is6() {
		return b.v6
	}
	return b.v4
}

func (b bothLogs) Allocate(l leases.Lease) error           { return b.log(l).Allocate(l) }
func (b bothLogs) Renew(l leases.Lease) error              { return b.log(l).Renew(l) }
func (b bothLogs) Release(l leases.Lease) error            { return b.log(l).Release(l) }
func (b bothLogs) Expire(l leases.Lease) error             { return b.log(l).Expire(l) }
func (b bothLogs) Decline(l leases.Lease) error            { return b.log(l).Decline(l) }
func (b bothLogs) Commit(l leases.Lease, done func(error)) { b.log(l).Commit(l, done) }
func (b bothLogs) Close() error                            { return errors.Join(b.v4.Close(), b.v6.Close()) }

func (b bothLogs) List() ([]leases.Lease, error) {
	l4, err := b.v4.List()
	if err != nil {
		return nil, err
	}
	l6, err := b.v6.List()
	return append(l4, l6...), err
}
