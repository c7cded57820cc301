package dhcp

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/logx"
	"github.com/rackboot/rackboot/leases"
)

// Defaults for the zero values of HandlerConfig.
const (
	DefaultOfferHold    = time.Duration(config.DefaultOfferHold)
	DefaultDeclineHold  = time.Duration(config.DefaultDeclineHold)
	DefaultProbeTimeout = time.Duration(config.DefaultProbeTimeout)
)

// subnet is one configured subnet with its address pool.
type subnet struct {
	cfg      config.Subnet
	pool     *Pool
	opts     encodedOptions // the subnet's options, for machines without overrides
	lastWarn atomic.Int64   // unix nanoseconds of the last exhaustion warning
}

// Metrics are the handler's running totals (docs/dhcp.md lists them).
type Metrics struct {
	Offers        atomic.Uint64
	Acks          atomic.Uint64
	Naks          atomic.Uint64
	Informs       atomic.Uint64
	Releases      atomic.Uint64
	Declines      atomic.Uint64
	Expired       atomic.Uint64
	PoolExhausted atomic.Uint64 // DISCOVERs that found no free address
	Conflicts     atomic.Uint64 // probed addresses that answered
	ProbeBusy     atomic.Uint64 // DISCOVERs dropped: every prober busy
	RateLimited   atomic.Uint64 // DISCOVERs over max_new_leases_per_second
	StoreErrors   atomic.Uint64 // bindings the store failed to record (no ACK sent)
	Ignored       atomic.Uint64 // requests with no subnet, for another server, or unusable
	ProbedAhead   atomic.Uint64 // probes ahead of demand (ahead.go)
	OffersReady   atomic.Uint64 // OFFERs of a new address probed ahead: sent at once
	OffersProbed  atomic.Uint64 // OFFERs of a new address that waited for a probe
}

// Snapshot returns the totals by name.
func (m *Metrics) Snapshot() map[string]uint64 {
	return map[string]uint64{
		"offers": m.Offers.Load(), "acks": m.Acks.Load(), "naks": m.Naks.Load(),
		"informs": m.Informs.Load(), "releases": m.Releases.Load(), "declines": m.Declines.Load(),
		"expired": m.Expired.Load(), "pool_exhausted": m.PoolExhausted.Load(),
		"conflicts": m.Conflicts.Load(), "probe_busy": m.ProbeBusy.Load(),
		"rate_limited": m.RateLimited.Load(), "store_errors": m.StoreErrors.Load(),
		"ignored": m.Ignored.Load(), "probed_ahead": m.ProbedAhead.Load(),
		"offers_ready": m.OffersReady.Load(), "offers_probed": m.OffersProbed.Load(),
	}
}

// HandlerConfig is what a Handler is built from.
type HandlerConfig struct {
	// Inventory returns the inventory in force; called once per request.
	Inventory func() *boot.Inventory
	Subnets   []config.Subnet
	Server    boot.Server
	// Log is where the handler logs; nil logs nothing.
	Log logrus.FieldLogger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Store keeps the leases (required).
	Store leases.Store
	// OfferHold and DeclineHold: how long an OFFER holds its address and a
	// declined address stays quarantined; defaults when zero.
	OfferHold, DeclineHold time.Duration
	// Prober checks an address nobody held before it is offered; nil turns
	// conflict detection off. ProbeTimeout bounds each probe.
	Prober       Prober
	ProbeTimeout time.Duration
	// Go runs a probe and the offer that follows it, off the worker that
	// read the DISCOVER; it returns false when it has no room (the DISCOVER
	// is dropped, the client retries). Nil runs probes inline.
	Go func(func()) bool
	// MaxNewLeasesPerSecond caps the DISCOVERs of clients that hold no
	// address, per relay (giaddr) or for the attached segment; 0: no cap.
	MaxNewLeasesPerSecond int
	// Refusals tells which firmware refused iPXE, for loader auto (may
	// be nil: then only secure_boot switches loader auto to the signed
	// chain).
	Refusals dhcpwire.Refusals
	// ProbeAhead caps each pool's set of addresses probed ahead of demand
	// (ahead.go): 0 means DefaultProbeAhead, negative turns it off (every
	// new address is probed on the request path). ProbeFresh is how long
	// a probe's answer stays good; DefaultProbeFresh when zero.
	ProbeAhead int
	ProbeFresh time.Duration
	// Prefer, when set, says which addresses the pools hand out first
	// (PoolConfig.Prefer; a cluster member's own, docs/cluster.md).
	Prefer func(netip.Addr) bool
	// Events, when set, receives one event per exchange (package events);
	// nil: no events.
	Events events.Sink
}

// Handler implements the server side of RFC 2131 (section 4.3): it picks
// addresses, records bindings in the lease store, builds the replies with
// their options and boot fields. It does no network I/O itself.
type Handler struct {
	inv     func() *boot.Inventory
	subnets []*subnet
	srv     boot.Server
	log     logrus.FieldLogger
	now     func() time.Time
	prober  Prober
	probeTO time.Duration
	goProbe func(func()) bool
	limiter *rateLimiter
	events  events.Sink
	refused dhcpwire.Refusals
	Metrics Metrics

	aheadSize  int
	aheadFresh time.Duration
	aheadKick  chan struct{}
}

// NewHandler builds a Handler and loads the store's leases into its pools.
// The pools skip the machines' fixed addresses, the server's own and each
// subnet's router. Inventory and Store are required.
func NewHandler(c HandlerConfig) (*Handler, error) {
	switch {
	case c.Inventory == nil:
		return nil, errors.New("dhcp: NewHandler needs an inventory")
	case c.Store == nil:
		return nil, errors.New("dhcp: NewHandler needs a lease store")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Log = logx.OrDiscard(c.Log)
	c.OfferHold = cmp0(c.OfferHold, DefaultOfferHold)
	c.DeclineHold = cmp0(c.DeclineHold, DefaultDeclineHold)
	c.ProbeTimeout = cmp0(c.ProbeTimeout, DefaultProbeTimeout)
	h := &Handler{
		inv: c.Inventory, srv: c.Server, log: c.Log, now: c.Now,
		prober: c.Prober, probeTO: c.ProbeTimeout, goProbe: c.Go,
		limiter: newRateLimiter(c.MaxNewLeasesPerSecond, c.Now), events: c.Events, refused: c.Refusals,

		aheadSize: c.ProbeAhead, aheadFresh: cmp0(c.ProbeFresh, DefaultProbeFresh), aheadKick: make(chan struct{}, 1),
	}
	if h.aheadSize == 0 {
		h.aheadSize = DefaultProbeAhead
	}
	reserved := []netip.Addr{c.Server.Addr}
	for _, m := range c.Inventory().Config().Machines {
		if m.Addr.IsValid() {
			reserved = append(reserved, m.Addr)
		}
	}
	recs, err := c.Store.List()
	if err != nil {
		c.Log.WithError(err).Error("dhcp: reading the lease store; starting without its leases")
	}
	for _, sc := range c.Subnets {
		pools := sc.Pools
		if len(pools) == 0 && sc.RangeStart.IsValid() {
			pools = []config.AddrRange{{First: sc.RangeStart, Last: sc.RangeEnd}}
		}
		p := NewPool(PoolConfig{
			Ranges: pools, Reserved: append(reserved[:len(reserved):len(reserved)], sc.RouterAddr),
			OfferHold: c.OfferHold, DeclineHold: c.DeclineHold, Now: c.Now, Store: c.Store, Prefer: c.Prefer,
		})
		n := p.Load(recs)
		if n > 0 {
			c.Log.WithFields(logrus.Fields{"cidr": sc.Prefix, "leases": n}).Info("dhcp: leases restored")
		}
		h.subnets = append(h.subnets, &subnet{cfg: sc, pool: p, opts: encodeOptions(effectiveOptions(sc, nil))})
	}
	return h, nil
}

func cmp0(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Respond implements dhcpwire.Responder: it answers req by calling send at
// most once, possibly later and from another goroutine (an OFFER waits for
// its conflict probe).
func (h *Handler) Respond(req *dhcpv4.DHCPv4, send func(*dhcpv4.DHCPv4)) {
	if req.OpCode != dhcpv4.OpcodeBootRequest {
		return
	}
	sn := h.subnetFor(req)
	if sn == nil {
		h.Metrics.Ignored.Add(1)
		if h.enabled(logrus.DebugLevel) {
			h.log.WithFields(logrus.Fields{"mac": req.ClientHWAddr.String(), "giaddr": req.GatewayIPAddr.String()}).
				Debug("dhcp: no subnet serves this request, ignored")
		}
		h.emitIgnored(req, "no subnet serves this request")
		return
	}
	switch dhcpwire.MessageTypeOf(req) {
	case dhcpv4.MessageTypeDiscover:
		h.discover(req, sn, send)
	case dhcpv4.MessageTypeRequest:
		h.request(req, sn, send)
	case dhcpv4.MessageTypeDecline:
		h.decline(req, sn)
	case dhcpv4.MessageTypeRelease:
		h.release(req, sn)
	case dhcpv4.MessageTypeInform:
		sendIf(send, h.inform(req, sn))
	default:
		h.Metrics.Ignored.Add(1)
	}
}

func sendIf(send func(*dhcpv4.DHCPv4), r *dhcpv4.DHCPv4) {
	if r != nil {
		send(r)
	}
}

// subnetFor picks the subnet a request belongs to: the one holding giaddr
// for a relayed request (RFC 2131 section 4.3.1), else the one holding the
// server's own address (the attached segment).
func (h *Handler) subnetFor(req *dhcpv4.DHCPv4) *subnet {
	at := h.srv.Addr
	if gi, ok := dhcpwire.AddrOf(req.GatewayIPAddr); ok {
		at = gi
	}
	for _, sn := range h.subnets {
		if sn.cfg.Prefix.Contains(at) {
			return sn
		}
	}
	return nil
}

// holderOf says who the client is: option 61 when sent (RFC 2132 section
// 9.14), else chaddr; named as the inventory names it, else as it named
// itself (option 12, from its facts).
func holderOf(req *dhcpv4.DHCPv4, c dhcpwire.Client, m *config.Machine) Holder {
	id := req.Options.Get(dhcpv4.OptionClientIdentifier)
	hold := Holder{Key: leases.ClientKey(id, req.ClientHWAddr), MAC: req.ClientHWAddr, ClientID: id, Hostname: c.Facts.Hostname}
	if m != nil && m.Hostname != "" {
		hold.Hostname = m.Hostname
	}
	return hold
}

// clientKey is holderOf(req, ...).Key.
func clientKey(req *dhcpv4.DHCPv4) string {
	return leases.ClientKey(req.Options.Get(dhcpv4.OptionClientIdentifier), req.ClientHWAddr)
}

// fixedAddr is the machine's fixed address when it lies in this subnet.
func fixedAddr(m *config.Machine, sn *subnet) (netip.Addr, bool) {
	if m != nil && m.Addr.IsValid() && sn.cfg.Prefix.Contains(m.Addr) {
		return m.Addr, true
	}
	return netip.Addr{}, false
}

// discover answers a DISCOVER (RFC 2131 section 4.3.1) with an address
// held for a short while; an address nobody held before is probed first.
func (h *Handler) discover(req *dhcpv4.DHCPv4, sn *subnet, send func(*dhcpv4.DHCPv4)) {
	c, d := h.decide(req)
	if ip, ok := fixedAddr(d.Machine, sn); ok {
		sendIf(send, h.reply(req, dhcpv4.MessageTypeOffer, ip, sn, c, d))
		return
	}
	hold := holderOf(req, c, d.Machine)
	if !sn.pool.Has(hold.Key) && !h.limiter.allow(req.GatewayIPAddr) {
		h.Metrics.RateLimited.Add(1)
		h.debug(req, c, "dhcp: over max_new_leases_per_second, DISCOVER dropped")
		h.emit(req, c, "", netip.Addr{}, &d, "", "over max_new_leases_per_second, dropped")
		return
	}
	want, _ := dhcpwire.OptionAddr(req, dhcpv4.OptionRequestedIPAddress)
	ip, kind, err := sn.pool.offer(hold, want)
	if err != nil {
		h.exhausted(req, sn, c, err)
		return
	}
	if kind == offerReady {
		h.Metrics.OffersReady.Add(1)
		h.kickAhead(sn)
	}
	if kind != offerNew || h.prober == nil {
		sendIf(send, h.reply(req, dhcpv4.MessageTypeOffer, ip, sn, c, d))
		return
	}
	h.Metrics.OffersProbed.Add(1)
	job := h.probeJob(req, sn, hold, ip, c, d, send)
	if h.goProbe == nil {
		job()
	} else if !h.goProbe(job) {
		h.Metrics.ProbeBusy.Add(1)
		sn.pool.Forget(hold.Key)
		h.debug(req, c, "dhcp: every prober busy, DISCOVER dropped")
	}
}

// probeJob probes ip (probeUntilFree) and offers the address found. It is
// discover's closure, built apart so that only a DISCOVER that probes
// moves the client and the decision to the heap.
func (h *Handler) probeJob(req *dhcpv4.DHCPv4, sn *subnet, hold Holder, ip netip.Addr, c dhcpwire.Client, d boot.Decision, send func(*dhcpv4.DHCPv4)) func() {
	return func() {
		if ip, ok := h.probeUntilFree(req, sn, hold, ip); ok {
			sendIf(send, h.reply(req, dhcpv4.MessageTypeOffer, ip, sn, c, d))
		}
	}
}

// maxProbes is how many addresses one DISCOVER probes before giving up.
const maxProbes = 3

// probeUntilFree probes ip and, while the address answers, quarantines it
// and takes the next one. It returns false when no free address was found.
func (h *Handler) probeUntilFree(req *dhcpv4.DHCPv4, sn *subnet, hold Holder, ip netip.Addr) (netip.Addr, bool) {
	_, relayed := dhcpwire.AddrOf(req.GatewayIPAddr)
	for range maxProbes {
		if !h.prober.InUse(ip, relayed, h.probeTO) {
			return ip, true
		}
		h.Metrics.Conflicts.Add(1)
		h.log.WithFields(logrus.Fields{"ip": ip, "cidr": sn.cfg.Prefix}).Warn("dhcp: address answered a probe, quarantined")
		if err := sn.pool.Decline("", ip); err != nil {
			h.log.WithError(err).Error("dhcp: quarantining a conflicting address")
		}
		next, known, err := sn.pool.Offer(hold, netip.Addr{})
		if err != nil {
			h.exhausted(req, sn, dhcpwire.Classify(req), err)
			return netip.Addr{}, false
		}
		if known {
			return next, true
		}
		ip = next
	}
	sn.pool.Forget(hold.Key)
	return netip.Addr{}, false
}

// exhausted counts and reports a DISCOVER that found no address, warning
// at most once every 10 seconds per subnet.
func (h *Handler) exhausted(req *dhcpv4.DHCPv4, sn *subnet, c dhcpwire.Client, err error) {
	h.Metrics.PoolExhausted.Add(1)
	now := h.now().UnixNano()
	last := sn.lastWarn.Load()
	if now-last < int64(10*time.Second) || !sn.lastWarn.CompareAndSwap(last, now) {
		return
	}
	h.clientLog(req, c).WithError(err).WithFields(logrus.Fields{
		"cidr": sn.cfg.Prefix, "pool_size": sn.pool.Size(), "exhausted_total": h.Metrics.PoolExhausted.Load(),
	}).Warn("dhcp: pool exhausted, no address to offer")
}

// request answers a REQUEST (RFC 2131 section 4.3.2) in each client state:
//   - SELECTING (server identifier set): ACK the requested address if it
//     is free for the client, NAK it if not; silence and forget the offer
//     when the client chose another server;
//   - INIT-REBOOT (requested address, no ciaddr): ACK the client's own
//     address, NAK a wrong one or one off this network, silence when the
//     server has no record of the client;
//   - RENEWING / REBINDING (ciaddr set): extend the lease, NAK when the
//     address is not the client's to keep.
func (h *Handler) request(req *dhcpv4.DHCPv4, sn *subnet, send func(*dhcpv4.DHCPv4)) {
	sid, hasSID := dhcpwire.OptionAddr(req, dhcpv4.OptionServerIdentifier)
	reqIP, hasReq := dhcpwire.OptionAddr(req, dhcpv4.OptionRequestedIPAddress)
	ci, hasCI := dhcpwire.AddrOf(req.ClientIPAddr)
	c, d := h.decide(req)
	hold := holderOf(req, c, d.Machine)
	switch {
	case hasSID && sid != h.srv.Addr:
		sn.pool.Forget(hold.Key)
		h.Metrics.Ignored.Add(1)
	case hasSID && !hasReq:
		h.Metrics.Ignored.Add(1)
		h.debug(req, c, "dhcp: REQUEST in SELECTING without requested address, ignored")
	case hasSID:
		h.bindAndAck(req, sn, reqIP, c, d, hold, send)
	case hasReq:
		h.initReboot(req, sn, reqIP, c, d, hold, send)
	case hasCI:
		h.bindAndAck(req, sn, ci, c, d, hold, send)
	default:
		h.Metrics.Ignored.Add(1)
	}
}

// initReboot checks the address a rebooting client remembers (RFC 2131
// section 4.3.2, INIT-REBOOT).
func (h *Handler) initReboot(req *dhcpv4.DHCPv4, sn *subnet, ip netip.Addr, c dhcpwire.Client, d boot.Decision, hold Holder, send func(*dhcpv4.DHCPv4)) {
	if !sn.cfg.Prefix.Contains(ip) {
		sendIf(send, h.nak(req, c, "requested "+ip.String()+" is not on network "+sn.cfg.Prefix.String()))
		return
	}
	if _, fixed := fixedAddr(d.Machine, sn); fixed {
		h.bindAndAck(req, sn, ip, c, d, hold, send)
		return
	}
	cur, ok := sn.pool.Current(hold.Key)
	switch {
	case ok && cur != ip:
		sendIf(send, h.nak(req, c, "client's lease is "+cur.String()+", asked for "+ip.String()))
	case ok:
		h.bindAndAck(req, sn, ip, c, d, hold, send)
	case !sn.pool.Contains(ip):
		sendIf(send, h.nak(req, c, "requested "+ip.String()+" is outside the pool"))
	default:
		h.Metrics.Ignored.Add(1)
		if h.enabled(logrus.DebugLevel) {
			h.clientLog(req, c).WithField("ip", ip).Debug("dhcp: INIT-REBOOT from a client without a lease, ignored")
		}
	}
}

// bindAndAck commits ip to the client and ACKs once the binding is on
// disk (the worker does not wait for it), or NAKs when the address is not
// the client's to have. When the store fails the client gets no answer
// and will ask again.
func (h *Handler) bindAndAck(req *dhcpv4.DHCPv4, sn *subnet, ip netip.Addr, c dhcpwire.Client, d boot.Decision, hold Holder, send func(*dhcpv4.DHCPv4)) {
	if fixed, ok := fixedAddr(d.Machine, sn); ok {
		if ip != fixed {
			sendIf(send, h.nak(req, c, "machine has fixed address "+fixed.String()+", asked for "+ip.String()))
			return
		}
		sendIf(send, h.reply(req, dhcpv4.MessageTypeAck, ip, sn, c, d))
		return
	}
	a := &pendingAck{h: h, req: req, sn: sn, ip: ip, c: c, d: d, send: send}
	sn.pool.BindAsync(hold, ip, h.leaseTime(sn, d.Machine), a.done)
}

// pendingAck is a REQUEST whose binding is on its way to disk: one
// allocation for all that the answer needs.
type pendingAck struct {
	h    *Handler
	req  *dhcpv4.DHCPv4
	sn   *subnet
	ip   netip.Addr
	c    dhcpwire.Client
	d    boot.Decision
	send func(*dhcpv4.DHCPv4)
}

// done answers once the store took the binding (or failed to).
func (a *pendingAck) done(err error) {
	h := a.h
	switch {
	case errors.Is(err, ErrNotAvailable):
		sendIf(a.send, h.nak(a.req, a.c, err.Error()))
	case err != nil:
		h.Metrics.StoreErrors.Add(1)
		h.clientLog(a.req, a.c).WithError(err).Error("dhcp: lease not recorded, no ACK sent")
	default:
		sendIf(a.send, h.reply(a.req, dhcpv4.MessageTypeAck, a.ip, a.sn, a.c, a.d))
	}
}

// decline quarantines the address a client found in use (RFC 2131 section
// 4.3.3).
func (h *Handler) decline(req *dhcpv4.DHCPv4, sn *subnet) {
	ip, ok := dhcpwire.OptionAddr(req, dhcpv4.OptionRequestedIPAddress)
	if !ok {
		h.Metrics.Ignored.Add(1)
		return
	}
	entry := h.log.WithFields(logrus.Fields{"mac": req.ClientHWAddr.String(), "ip": ip})
	if err := sn.pool.Decline(clientKey(req), ip); err != nil {
		h.Metrics.Ignored.Add(1)
		entry.WithError(err).Debug("dhcp: DECLINE ignored")
		return
	}
	h.Metrics.Declines.Add(1)
	entry.Warn("dhcp decline: client found the address in use, quarantined")
}

// release frees the client's address (RFC 2131 section 4.3.4).
func (h *Handler) release(req *dhcpv4.DHCPv4, sn *subnet) {
	ip, ok := dhcpwire.AddrOf(req.ClientIPAddr)
	if !ok {
		h.Metrics.Ignored.Add(1)
		return
	}
	entry := h.log.WithFields(logrus.Fields{"mac": req.ClientHWAddr.String(), "ip": ip})
	if err := sn.pool.Release(clientKey(req), ip); err != nil {
		h.Metrics.Ignored.Add(1)
		entry.WithError(err).Debug("dhcp: RELEASE ignored")
		return
	}
	h.Metrics.Releases.Add(1)
	if h.infoEnabled() {
		entry.Info("dhcp release")
	}
}

// inform answers a DHCPINFORM with options and no address (RFC 2131
// section 4.3.5).
func (h *Handler) inform(req *dhcpv4.DHCPv4, sn *subnet) *dhcpv4.DHCPv4 {
	c, d := h.decide(req)
	r := h.reply(req, dhcpv4.MessageTypeAck, netip.Addr{}, sn, c, d)
	if r != nil {
		r.Options.Del(dhcpv4.OptionIPAddressLeaseTime)
		h.Metrics.Informs.Add(1)
	}
	return r
}

// Sweep returns expired leases to their pools (recording them as expired)
// and drops lapsed offers and quarantines.
func (h *Handler) Sweep() {
	for _, sn := range h.subnets {
		n, err := sn.pool.Sweep()
		h.Metrics.Expired.Add(uint64(n))
		if err != nil {
			h.log.WithError(err).Error("dhcp: recording expired leases")
		}
	}
}

// decide classifies the client and asks the inventory what it boots.
func (h *Handler) decide(req *dhcpv4.DHCPv4) (dhcpwire.Client, boot.Decision) {
	return dhcpwire.Decide(req, h.inv(), h.srv, h.refused)
}

// reply builds an OFFER or ACK with the subnet's options, the machine's
// overrides and the client's boot fields.
func (h *Handler) reply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType, ip netip.Addr, sn *subnet, c dhcpwire.Client, d boot.Decision) *dhcpv4.DHCPv4 {
	r := dhcpwire.NewReply(req, mt, h.srv.Addr)
	if ip.IsValid() {
		r.YourIPAddr = ip.AsSlice()
	}
	sn.addOptions(r, d.Machine)
	addMachineOptions(r, d.Machine)
	bf, boots := dhcpwire.FieldsFor(d.Next, h.srv)
	if boots {
		bf.Apply(r)
	}
	switch {
	case mt == dhcpv4.MessageTypeOffer:
		h.Metrics.Offers.Add(1)
	case ip.IsValid():
		h.Metrics.Acks.Add(1)
	}
	h.emit(req, c, mt.String(), ip, &d, bf.File, "")
	if h.infoEnabled() {
		entry := h.clientLog(req, c).WithField("ip", ip)
		if !boots {
			entry = entry.WithField("noboot", d.Next.Why)
		} else {
			entry = entry.WithFields(logrus.Fields{"bootfile": bf.File, "profile": d.ProfileName(), "via": d.Via()})
		}
		entry.Info(replyLine(mt))
	}
	return r
}

// nak builds a DHCPNAK (RFC 2131 section 4.3.2, table 3).
func (h *Handler) nak(req *dhcpv4.DHCPv4, c dhcpwire.Client, why string) *dhcpv4.DHCPv4 {
	h.Metrics.Naks.Add(1)
	h.emit(req, c, "NAK", netip.Addr{}, nil, "", why)
	if h.infoEnabled() {
		h.clientLog(req, c).WithField("reason", why).Info("dhcp nak")
	}
	return dhcpwire.NewReply(req, dhcpv4.MessageTypeNak, h.srv.Addr)
}

// replyLine is the Info line of an OFFER or ACK.
func replyLine(mt dhcpv4.MessageType) string {
	switch mt {
	case dhcpv4.MessageTypeOffer:
		return "dhcp offer"
	case dhcpv4.MessageTypeAck:
		return "dhcp ack"
	}
	return "dhcp "
}

// infoEnabled reports whether Info lines are logged, so that the per-packet
// ones cost nothing when they are not (a benchmark runs at warn).
func (h *Handler) infoEnabled() bool { return h.enabled(logrus.InfoLevel) }

// enabled reports whether lines of level are logged, so that the fields
// of a per-packet line are built only when it is; true for a logger that
// does not tell.
func (h *Handler) enabled(level logrus.Level) bool {
	switch l := h.log.(type) {
	case *logrus.Logger:
		return l.IsLevelEnabled(level)
	case *logrus.Entry:
		return l.Logger.IsLevelEnabled(level)
	}
	return true
}

// debug logs a Debug line about the client, when Debug lines are logged.
func (h *Handler) debug(req *dhcpv4.DHCPv4, c dhcpwire.Client, msg string) {
	if h.enabled(logrus.DebugLevel) {
		h.clientLog(req, c).Debug(msg)
	}
}

func (h *Handler) clientLog(req *dhcpv4.DHCPv4, c dhcpwire.Client) logrus.FieldLogger {
	f := logrus.Fields{"mac": req.ClientHWAddr.String(), "class": c.Facts.Class.String()}
	if c.Facts.HasArch {
		f["arch"] = int(c.Facts.Arch)
	}
	if gi, ok := dhcpwire.AddrOf(req.GatewayIPAddr); ok {
		f["giaddr"] = gi
	}
	return h.log.WithFields(f)
}

// SweepInterval is how often Maintain sweeps expired leases.
const SweepInterval = 10 * time.Second

// Maintain sweeps expired leases every interval until ctx ends; with
// conflict detection on it also keeps addresses probed ahead of demand.
func (h *Handler) Maintain(ctx context.Context, every time.Duration) {
	if h.prober != nil && h.aheadSize > 0 {
		go h.ProbeAhead(ctx)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Sweep()
		}
	}
}
