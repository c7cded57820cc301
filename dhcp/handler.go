package dhcp

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// DefaultOfferHold is how long an OFFER keeps its address from others when
// the client never REQUESTs it.
const DefaultOfferHold = 30 * time.Second

// subnet is one configured subnet with its address pool.
type subnet struct {
	cfg  config.Subnet
	pool *Pool
}

// HandlerConfig is what a Handler is built from.
type HandlerConfig struct {
	// Inventory returns the inventory in force; called once per request.
	Inventory func() *boot.Inventory
	Subnets   []config.Subnet
	Server    ServerInfo
	Log       logrus.FieldLogger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Handler turns one DHCP request into its reply (RFC 2131 section 4.3):
// address choice, options and boot fields. It does no I/O.
type Handler struct {
	inv     func() *boot.Inventory
	subnets []*subnet
	srv     ServerInfo
	log     logrus.FieldLogger
}

// NewHandler builds a Handler; the pools skip the machines' fixed
// addresses, the server's own and each subnet's router.
func NewHandler(c HandlerConfig) *Handler {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	reserved := []netip.Addr{c.Server.Addr}
	for _, m := range c.Inventory().Config().Machines {
		if m.Addr.IsValid() {
			reserved = append(reserved, m.Addr)
		}
	}
	h := &Handler{inv: c.Inventory, srv: c.Server, log: c.Log}
	for _, sc := range c.Subnets {
		res := append(reserved[:len(reserved):len(reserved)], sc.RouterAddr)
		h.subnets = append(h.subnets, &subnet{cfg: sc, pool: NewPool(sc.RangeStart, sc.RangeEnd, res, DefaultOfferHold, now)})
	}
	return h
}

// Handle returns the reply to req, or nil when none is due.
func (h *Handler) Handle(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	if req.OpCode != dhcpv4.OpcodeBootRequest {
		return nil
	}
	sn := h.subnetFor(req)
	if sn == nil {
		h.log.WithFields(logrus.Fields{"mac": req.ClientHWAddr.String(), "giaddr": req.GatewayIPAddr.String()}).
			Debug("dhcp: no subnet serves this request, ignored")
		return nil
	}
	switch req.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		return h.offer(req, sn)
	case dhcpv4.MessageTypeRequest:
		return h.ack(req, sn)
	case dhcpv4.MessageTypeRelease:
		h.release(req, sn)
	case dhcpv4.MessageTypeInform:
		return h.inform(req, sn)
	}
	return nil
}

// subnetFor picks the subnet a request belongs to: the one holding giaddr
// for a relayed request (RFC 2131 section 4.3.1), else the one holding the
// server's own address.
func (h *Handler) subnetFor(req *dhcpv4.DHCPv4) *subnet {
	at := h.srv.Addr
	if gi, ok := addrOf(req.GatewayIPAddr); ok {
		at = gi
	}
	for _, sn := range h.subnets {
		if sn.cfg.Prefix.Contains(at) {
			return sn
		}
	}
	return nil
}

// offer answers a DISCOVER with an address held for a short while.
func (h *Handler) offer(req *dhcpv4.DHCPv4, sn *subnet) *dhcpv4.DHCPv4 {
	c, d := h.decide(req)
	ip, err := h.addressFor(req, sn, d.Machine)
	if err != nil {
		h.clientLog(req, c).WithError(err).Warn("dhcp: no address to offer")
		return nil
	}
	return h.reply(req, dhcpv4.MessageTypeOffer, ip, sn, c, d)
}

// addressFor picks the address to offer: the machine's fixed address when it
// lies in this subnet, else one from the pool.
func (h *Handler) addressFor(req *dhcpv4.DHCPv4, sn *subnet, m *config.Machine) (netip.Addr, error) {
	if m != nil && m.Addr.IsValid() && sn.cfg.Prefix.Contains(m.Addr) {
		return m.Addr, nil
	}
	want, _ := addrOf(req.RequestedIPAddress())
	return sn.pool.Offer(req.ClientHWAddr, want)
}

// ack answers a REQUEST (RFC 2131 section 4.3.2): ACK when the address is
// this client's to have, NAK when it is not, nothing when the client chose
// another server.
func (h *Handler) ack(req *dhcpv4.DHCPv4, sn *subnet) *dhcpv4.DHCPv4 {
	if sid, ok := addrOf(req.ServerIdentifier()); ok && sid != h.srv.Addr {
		return nil
	}
	ip, ok := addrOf(req.RequestedIPAddress())
	if !ok {
		ip, _ = addrOf(req.ClientIPAddr)
	}
	c, d := h.decide(req)
	if err := h.bind(req, sn, d.Machine, ip); err != nil {
		h.clientLog(req, c).WithError(err).Info("dhcp nak")
		return h.nak(req)
	}
	return h.reply(req, dhcpv4.MessageTypeAck, ip, sn, c, d)
}

// bind commits ip to the client, or says why it can't have it.
func (h *Handler) bind(req *dhcpv4.DHCPv4, sn *subnet, m *config.Machine, ip netip.Addr) error {
	if m != nil && m.Addr.IsValid() && sn.cfg.Prefix.Contains(m.Addr) {
		if ip != m.Addr {
			return errors.New("machine has fixed address " + m.Addr.String() + ", asked for " + ip.String())
		}
		return nil
	}
	return sn.pool.Bind(req.ClientHWAddr, ip, time.Duration(sn.cfg.LeaseTime))
}

// release frees the client's address (RFC 2131 section 4.3.4).
func (h *Handler) release(req *dhcpv4.DHCPv4, sn *subnet) {
	if ip, ok := addrOf(req.ClientIPAddr); ok {
		sn.pool.Release(req.ClientHWAddr, ip)
		h.log.WithFields(logrus.Fields{"mac": req.ClientHWAddr.String(), "ip": ip}).Info("dhcp release")
	}
}

// inform answers a DHCPINFORM with options and no address (RFC 2131
// section 4.3.5).
func (h *Handler) inform(req *dhcpv4.DHCPv4, sn *subnet) *dhcpv4.DHCPv4 {
	c, d := h.decide(req)
	r := h.reply(req, dhcpv4.MessageTypeAck, netip.Addr{}, sn, c, d)
	r.Options.Del(dhcpv4.OptionIPAddressLeaseTime)
	return r
}

// decide classifies the client and asks the inventory what it boots.
func (h *Handler) decide(req *dhcpv4.DHCPv4) (Client, boot.Decision) {
	c := Classify(req)
	return c, h.inv().Decide(c.Facts)
}

// reply builds an OFFER or ACK with the subnet's options and the client's
// boot fields.
func (h *Handler) reply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType, ip netip.Addr, sn *subnet, c Client, d boot.Decision) *dhcpv4.DHCPv4 {
	r, err := dhcpv4.NewReplyFromRequest(req,
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(h.srv.Addr.AsSlice())),
	)
	if err != nil { // only fails on a random-source error
		h.log.WithError(err).Error("dhcp: building reply")
		return nil
	}
	if ip.IsValid() {
		r.YourIPAddr = ip.AsSlice()
	}
	addSubnetOptions(r, sn.cfg)
	addMachineOptions(r, d.Machine)
	copyRelayInfo(r, req)
	entry := h.clientLog(req, c).WithField("ip", ip)
	if bf, err := BootFor(c, d, h.srv); err != nil {
		entry = entry.WithField("noboot", err.Error())
	} else {
		bf.apply(r)
		entry = entry.WithFields(logrus.Fields{"bootfile": bf.File, "profile": d.Profile.Name, "via": d.Source})
	}
	entry.Info("dhcp " + map[dhcpv4.MessageType]string{dhcpv4.MessageTypeOffer: "offer", dhcpv4.MessageTypeAck: "ack"}[mt])
	return r
}

// nak builds a DHCPNAK (RFC 2131 section 4.3.2, table 3).
func (h *Handler) nak(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	r, err := dhcpv4.NewReplyFromRequest(req,
		dhcpv4.WithMessageType(dhcpv4.MessageTypeNak),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(h.srv.Addr.AsSlice())),
	)
	if err != nil {
		return nil
	}
	copyRelayInfo(r, req)
	return r
}

func (h *Handler) clientLog(req *dhcpv4.DHCPv4, c Client) logrus.FieldLogger {
	f := logrus.Fields{"mac": req.ClientHWAddr.String(), "class": c.Class.String()}
	if c.Facts.HasArch {
		f["arch"] = int(c.Facts.Arch)
	}
	if gi, ok := addrOf(req.GatewayIPAddr); ok {
		f["giaddr"] = gi
	}
	return h.log.WithFields(f)
}

// addSubnetOptions adds mask, router, DNS, domain and lease time (RFC 2132).
func addSubnetOptions(r *dhcpv4.DHCPv4, sc config.Subnet) {
	r.UpdateOption(dhcpv4.OptSubnetMask(net.CIDRMask(sc.Prefix.Bits(), 32)))
	if sc.RouterAddr.IsValid() {
		r.UpdateOption(dhcpv4.OptRouter(sc.RouterAddr.AsSlice()))
	}
	if len(sc.DNSAddrs) > 0 {
		ips := make([]net.IP, len(sc.DNSAddrs))
		for i, a := range sc.DNSAddrs {
			ips[i] = a.AsSlice()
		}
		r.UpdateOption(dhcpv4.OptDNS(ips...))
	}
	if sc.Domain != "" {
		r.UpdateOption(dhcpv4.OptDomainName(sc.Domain))
	}
	r.UpdateOption(dhcpv4.OptIPAddressLeaseTime(time.Duration(sc.LeaseTime)))
}

// addMachineOptions adds what the inventory says of this machine.
func addMachineOptions(r *dhcpv4.DHCPv4, m *config.Machine) {
	if m != nil && m.Hostname != "" {
		r.UpdateOption(dhcpv4.OptHostName(m.Hostname))
	}
}

// copyRelayInfo echoes option 82 to the relay (RFC 3046 section 2.2).
func copyRelayInfo(r, req *dhcpv4.DHCPv4) {
	if v := req.Options.Get(dhcpv4.OptionRelayAgentInformation); v != nil {
		r.UpdateOption(dhcpv4.OptGeneric(dhcpv4.OptionRelayAgentInformation, v))
	}
}

// addrOf converts a non-zero IPv4 address.
func addrOf(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || a.IsUnspecified() {
		return netip.Addr{}, false
	}
	return a, true
}
