package dhcp6

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/internal/logx"
	"github.com/rackboot/rackboot/leases"
)

// Ports of RFC 8415 section 7.2, and the PXE boot server port OVMF sends
// its proxy Request to.
const (
	ClientPort     = 546
	ServerPort     = 547
	BootServerPort = 4011
)

// Defaults of Config.
const (
	DefaultOfferHold   = 30 * time.Second
	DefaultDeclineHold = 10 * time.Minute
)

// Config configures a Handler.
type Config struct {
	// Inventory returns the inventory in force (called per request).
	Inventory func() *boot.Inventory
	// Server builds the URLs; its Addr must be the server's IPv6 address.
	Server boot.Server
	// ServerID is this server's DUID (option 2).
	ServerID dhcpv6.DUID
	// Proxy answers boot clients only, with boot options and no address;
	// Subnets and Store are not used then.
	Proxy bool
	// Subnets are the IPv6 subnets addresses come from (full mode).
	Subnets []config.Subnet
	// Store keeps the leases (full mode): leases.Open6.
	Store                  leases.Store
	OfferHold, DeclineHold time.Duration
	Log                    logrus.FieldLogger
	Now                    func() time.Time
}

// Metrics are the handler's running totals.
type Metrics struct {
	Advertises, Replies, Ignored, NoAddrs, StoreErrors, Releases, Declines atomic.Uint64
}

// Snapshot returns the totals by name.
func (m *Metrics) Snapshot() map[string]uint64 {
	return map[string]uint64{"advertises": m.Advertises.Load(), "replies": m.Replies.Load(), "ignored": m.Ignored.Load(),
		"no_addrs": m.NoAddrs.Load(), "store_errors": m.StoreErrors.Load(), "releases": m.Releases.Load(), "declines": m.Declines.Load()}
}

// Handler answers DHCPv6 requests.
type Handler struct {
	cfg     Config
	log     logrus.FieldLogger
	pool    *pool
	Metrics Metrics
}

// NewHandler checks cfg and, in full mode, loads the store's leases.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Inventory == nil || cfg.ServerID == nil || !cfg.Server.Addr.Is6() {
		return nil, errors.New("dhcp6: the handler needs an inventory, a server DUID and the server's IPv6 address")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OfferHold <= 0 {
		cfg.OfferHold = DefaultOfferHold
	}
	if cfg.DeclineHold <= 0 {
		cfg.DeclineHold = DefaultDeclineHold
	}
	h := &Handler{cfg: cfg, log: logx.OrDiscard(cfg.Log), pool: newPool(cfg.Now)}
	if !cfg.Proxy {
		if cfg.Store == nil {
			return nil, errors.New("dhcp6: full mode needs a lease store")
		}
		ls, err := cfg.Store.List()
		if err != nil {
			return nil, fmt.Errorf("dhcp6: reading leases: %w", err)
		}
		h.pool.load(ls)
	}
	return h, nil
}

// Source is where a request came from: its IPv6 source address and port,
// and its Ethernet source when the transport saw it.
type Source struct {
	Addr netip.AddrPort
	MAC  net.HardwareAddr
}

// Handle answers one datagram: the reply's bytes, or nil when the request
// gets none. A request inside Relay-forward messages gets its answer
// inside matching Relay-reply messages (RFC 8415 section 19.3); the
// caller sends it back to the source.
func (h *Handler) Handle(b []byte, src Source) ([]byte, error) {
	pkt, err := dhcpv6.FromBytes(b)
	if err != nil {
		return nil, err
	}
	msg, path, err := unwrap(pkt, src)
	if err != nil {
		return nil, err
	}
	reply := h.answer(msg, path)
	if reply == nil {
		return nil, nil
	}
	if relay, ok := pkt.(*dhcpv6.RelayMessage); ok {
		wrapped, err := dhcpv6.NewRelayReplFromRelayForw(relay, reply)
		if err != nil {
			return nil, err
		}
		return wrapped.ToBytes(), nil
	}
	return reply.ToBytes(), nil
}

// hopLimit is HOP_COUNT_LIMIT (RFC 8415 section 7.6).
const hopLimit = 8

// unwrap takes the client's message out of its Relay-forward messages,
// keeping what the relay next to the client said.
func unwrap(pkt dhcpv6.DHCPv6, src Source) (*dhcpv6.Message, Path, error) {
	path := Path{MAC: src.MAC}
	for depth := 0; pkt.IsRelay(); depth++ {
		r := pkt.(*dhcpv6.RelayMessage)
		if r.MessageType != dhcpv6.MessageTypeRelayForward || depth > hopLimit {
			return nil, path, fmt.Errorf("%s at relay depth %d", r.MessageType, depth)
		}
		path.Relayed = true
		path.LinkAddr, _ = netip.AddrFromSlice(r.LinkAddr)
		path.LinkAddr = path.LinkAddr.Unmap()
		path.RelayMAC = nil
		if _, mac := r.Options.ClientLinkLayerAddress(); len(mac) == 6 {
			path.RelayMAC = mac
		}
		inner := r.Options.RelayMessage()
		if inner == nil {
			return nil, path, errors.New("relay-forward without a relay message option")
		}
		pkt = inner
	}
	msg, ok := pkt.(*dhcpv6.Message)
	if !ok {
		return nil, path, errors.New("not a DHCPv6 message")
	}
	return msg, path, nil
}

// request is one client message being answered.
type request struct {
	msg    *dhcpv6.Message
	path   Path
	client Client
	inv    *boot.Inventory
	d      boot.Decision
	boot   Boot
}

// answer is the protocol's steps: validate, classify, decide, build.
func (h *Handler) answer(msg *dhcpv6.Message, path Path) *dhcpv6.Message {
	if why := h.refuse(msg); why != "" {
		h.Metrics.Ignored.Add(1)
		h.log.WithFields(logrus.Fields{"type": msg.MessageType.String(), "why": why}).Debug("dhcp6: ignored")
		return nil
	}
	r := &request{msg: msg, path: path, inv: h.cfg.Inventory()}
	r.client = Classify(msg, path, r.inv)
	if h.cfg.Proxy && r.client.Facts.Class == boot.ClassPlain {
		h.Metrics.Ignored.Add(1)
		return nil
	}
	if r.inv != nil && r.client.Facts.Class != boot.ClassPlain {
		r.d = r.inv.Decide(r.client.Facts, h.cfg.Server)
		r.boot = BootFor(r.d.Next, r.client.Facts.Class, h.cfg.Server)
	}
	if h.cfg.Proxy {
		if r.boot.URL == "" {
			h.Metrics.Ignored.Add(1)
			h.logDecision(r, nil, "no boot: "+r.boot.Why)
			return nil
		}
		r.boot = r.boot.ForProxy(r.client.Facts.Class)
		return h.proxyReply(r)
	}
	return h.fullReply(r)
}

// refuse says why a message gets no answer (RFC 8415 section 16), or "".
func (h *Handler) refuse(msg *dhcpv6.Message) string {
	cid, sid := msg.Options.ClientID(), msg.Options.ServerID()
	ours := sid != nil && bytes.Equal(sid.ToBytes(), h.cfg.ServerID.ToBytes())
	switch msg.MessageType {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeConfirm:
		if cid == nil || sid != nil {
			return "needs a client id and no server id"
		}
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
		if cid == nil || !ours {
			return "for another server"
		}
	case dhcpv6.MessageTypeInformationRequest:
		if sid != nil && !ours {
			return "for another server"
		}
	default:
		return "not a client message"
	}
	if h.cfg.Proxy && msg.MessageType != dhcpv6.MessageTypeSolicit && msg.MessageType != dhcpv6.MessageTypeRequest &&
		msg.MessageType != dhcpv6.MessageTypeInformationRequest {
		return "proxy mode hands out no addresses"
	}
	return ""
}

// base is a reply of type t to r's message with the server and client
// ids.
func (h *Handler) base(r *request, t dhcpv6.MessageType) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: r.msg.TransactionID}
	if cid := r.msg.GetOneOption(dhcpv6.OptionClientID); cid != nil {
		m.AddOption(cid)
	}
	m.AddOption(dhcpv6.OptServerID(h.cfg.ServerID))
	return m
}

// proxyReply is the stateless answer of proxy mode: boot options only.
// A Solicit gets an Advertise without IA_NA and without a preference, so
// the client still takes its address from the network's server.
func (h *Handler) proxyReply(r *request) *dhcpv6.Message {
	t := dhcpv6.MessageTypeReply
	if r.msg.MessageType == dhcpv6.MessageTypeSolicit {
		t = dhcpv6.MessageTypeAdvertise
	}
	m := h.base(r, t)
	for _, o := range r.boot.options() {
		m.AddOption(o)
	}
	h.count(t)
	h.logDecision(r, m, "")
	return m
}

func (h *Handler) count(t dhcpv6.MessageType) {
	if t == dhcpv6.MessageTypeAdvertise {
		h.Metrics.Advertises.Add(1)
	} else {
		h.Metrics.Replies.Add(1)
	}
}

func (h *Handler) logDecision(r *request, m *dhcpv6.Message, why string) {
	f := r.client.Facts
	fields := logrus.Fields{"type": r.msg.MessageType.String(), "mac": f.MAC.String(), "mac_from": r.client.MACFrom.String(),
		"duid_type": r.client.DUIDTyp.String(), "class": f.Class.String(), "relayed": r.path.Relayed}
	if f.HasArch {
		fields["arch"] = int(f.Arch)
	}
	if r.boot.URL != "" {
		fields["boot_file_url"] = r.boot.URL
	}
	if r.d.Profile != nil {
		fields["profile"], fields["via"] = r.d.Profile.Name, r.d.Via()
	}
	if m != nil {
		fields["reply"] = m.MessageType.String()
		if ia := m.Options.OneIANA(); ia != nil {
			if a := ia.Options.OneAddress(); a != nil {
				fields["ip"] = a.IPv6Addr.String()
			}
		}
	}
	if why != "" {
		fields["why"] = why
	} else if r.boot.Why != "" && f.Class != boot.ClassPlain {
		fields["no_boot"] = r.boot.Why
	}
	h.log.WithFields(fields).Info("dhcp6")
}
