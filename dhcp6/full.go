package dhcp6

import (
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/insomniacslk/dhcp/rfc1035label"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/leases"
)

// fullReply answers a client in full mode (RFC 8415 section 18.3).
func (h *Handler) fullReply(r *request) *dhcpv6.Message {
	sn := h.subnetFor(r.path)
	switch r.msg.MessageType {
	case dhcpv6.MessageTypeSolicit:
		if r.msg.GetOneOption(dhcpv6.OptionRapidCommit) != nil {
			return h.bindReply(r, sn, true)
		}
		return h.advertise(r, sn)
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind:
		return h.bindReply(r, sn, false)
	case dhcpv6.MessageTypeConfirm:
		return h.confirm(r, sn)
	case dhcpv6.MessageTypeRelease:
		return h.giveBack(r, false)
	case dhcpv6.MessageTypeDecline:
		return h.giveBack(r, true)
	}
	// Information-Request: stateless configuration and boot options.
	m := h.base(r, dhcpv6.MessageTypeReply)
	h.addConfig(m, r, sn)
	h.count(m.MessageType)
	h.logDecision(r, m, "")
	return m
}

// subnetFor picks the subnet of the client's link: the one holding the
// innermost relay's link-address, or for an on-link client the one
// holding the server's address (else the only IPv6 subnet).
func (h *Handler) subnetFor(p Path) *config.Subnet {
	want := h.cfg.Server.Addr
	if p.Relayed {
		want = p.LinkAddr
	}
	for i := range h.cfg.Subnets {
		if sn := &h.cfg.Subnets[i]; sn.Prefix.Contains(want) {
			return sn
		}
	}
	if !p.Relayed && len(h.cfg.Subnets) == 1 {
		return &h.cfg.Subnets[0]
	}
	return nil
}

// fixedFor is the machine's ipv6 when it lies in sn.
func (r *request) fixedFor(sn *config.Subnet) netip.Addr {
	if r.inv == nil {
		return netip.Addr{}
	}
	m := r.inv.Machine(r.client.Facts.MAC)
	if m == nil || !sn.Prefix.Contains(m.Addr6) {
		return netip.Addr{}
	}
	return m.Addr6
}

// addConfig adds the boot options, name servers (23) and domain search
// list (24).
func (h *Handler) addConfig(m *dhcpv6.Message, r *request, sn *config.Subnet) {
	for _, o := range r.boot.options() {
		m.AddOption(o)
	}
	if sn == nil {
		return
	}
	if len(sn.DNSAddrs) > 0 {
		ips := make([]net.IP, len(sn.DNSAddrs))
		for i, a := range sn.DNSAddrs {
			ips[i] = a.AsSlice()
		}
		m.AddOption(dhcpv6.OptDNS(ips...))
	}
	if sn.Domain != "" {
		m.AddOption(dhcpv6.OptDomainSearchList(&rfc1035label.Labels{Labels: []string{sn.Domain}}))
	}
}

// address reserves r's address in sn for OfferHold; ok is false (and the
// reason logged) when there is none.
func (h *Handler) address(r *request, sn *config.Subnet) (netip.Addr, bool) {
	if sn == nil {
		h.logDecision(r, nil, "no IPv6 subnet for the client's link")
		return netip.Addr{}, false
	}
	ip, err := h.pool.reserve(clientKey(r.client), sn, r.fixedFor(sn), h.cfg.Now().Add(h.cfg.OfferHold), r.client)
	if err != nil {
		h.Metrics.NoAddrs.Add(1)
		h.logDecision(r, nil, err.Error())
		return netip.Addr{}, false
	}
	return ip, true
}

// advertise answers a Solicit with the address the client would get,
// held for OfferHold, with preference 255 so the client need not wait
// for other servers (RFC 8415 section 18.2.1).
func (h *Handler) advertise(r *request, sn *config.Subnet) *dhcpv6.Message {
	m := h.base(r, dhcpv6.MessageTypeAdvertise)
	m.AddOption(dhcpv6.OptPreference(255))
	ip, ok := h.address(r, sn)
	h.addIAs(m, r, ip, ok, sn)
	h.addConfig(m, r, sn)
	h.count(m.MessageType)
	h.logDecision(r, m, "")
	return m
}

// bindReply commits the client's address to the store and replies with
// it (Request, Renew, Rebind, rapid-commit Solicit).
func (h *Handler) bindReply(r *request, sn *config.Subnet, rapid bool) *dhcpv6.Message {
	m := h.base(r, dhcpv6.MessageTypeReply)
	if rapid {
		m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	}
	ip, ok := h.address(r, sn)
	if ok {
		until := h.cfg.Now().Add(time.Duration(sn.LeaseTime)).Truncate(time.Second)
		l := leases.Lease{IP: ip, ClientID: r.client.DUID, MAC: r.client.Facts.MAC, Expiry: until, Hostname: r.client.Facts.Hostname}
		if err := h.cfg.Store.Allocate(l); err != nil {
			h.Metrics.StoreErrors.Add(1)
			h.log.WithError(err).WithField("ip", ip).Error("dhcp6: lease not stored; no reply")
			return nil
		}
		h.pool.hold(clientKey(r.client), ip, until, true, r.client)
	}
	h.addIAs(m, r, ip, ok, sn)
	h.addConfig(m, r, sn)
	h.count(m.MessageType)
	h.logDecision(r, m, "")
	return m
}

// addIAs answers each IA_NA of the request: the first gets ip (and any
// other address the client listed, with lifetimes 0, RFC 8415 section
// 18.3.4); the others, or all when !ok, status NoAddrsAvail.
func (h *Handler) addIAs(m *dhcpv6.Message, r *request, ip netip.Addr, ok bool, sn *config.Subnet) {
	for i, ia := range r.msg.Options.IANA() {
		out := &dhcpv6.OptIANA{IaId: ia.IaId}
		if !ok || i > 0 {
			out.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoAddrsAvail, StatusMessage: "no address for this IA"})
			m.AddOption(out)
			continue
		}
		life := time.Duration(sn.LeaseTime)
		out.T1, out.T2 = life/2, life*4/5
		out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: ip.AsSlice(), PreferredLifetime: life, ValidLifetime: life})
		for _, old := range ia.Options.Addresses() {
			if a, _ := netip.AddrFromSlice(old.IPv6Addr); a != ip && a.IsValid() {
				out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: old.IPv6Addr})
			}
		}
		m.AddOption(out)
	}
}

// confirm says whether the client's addresses are on its link (RFC 8415
// section 18.3.3).
func (h *Handler) confirm(r *request, sn *config.Subnet) *dhcpv6.Message {
	if sn == nil {
		h.Metrics.Ignored.Add(1)
		return nil
	}
	code, text := iana.StatusSuccess, "all addresses on link"
	n := 0
	for _, ia := range r.msg.Options.IANA() {
		for _, a := range ia.Options.Addresses() {
			n++
			if ip, _ := netip.AddrFromSlice(a.IPv6Addr); !sn.Prefix.Contains(ip) {
				code, text = iana.StatusNotOnLink, ip.String()+" is not on this link"
			}
		}
	}
	if n == 0 {
		h.Metrics.Ignored.Add(1)
		return nil
	}
	m := h.base(r, dhcpv6.MessageTypeReply)
	m.AddOption(&dhcpv6.OptStatusCode{StatusCode: code, StatusMessage: text})
	h.count(m.MessageType)
	return m
}

// giveBack handles Release and Decline (RFC 8415 sections 18.3.7, 18.3.8).
func (h *Handler) giveBack(r *request, decline bool) *dhcpv6.Message {
	key := clientKey(r.client)
	for _, ia := range r.msg.Options.IANA() {
		for _, a := range ia.Options.Addresses() {
			ip, _ := netip.AddrFromSlice(a.IPv6Addr)
			l := leases.Lease{IP: ip, ClientID: r.client.DUID, MAC: r.client.Facts.MAC}
			var err error
			switch {
			case decline:
				l.Expiry = h.cfg.Now().Add(h.cfg.DeclineHold).Truncate(time.Second)
				h.pool.quarantine(key, ip, l.Expiry)
				h.Metrics.Declines.Add(1)
				err = h.cfg.Store.Decline(l)
			case h.pool.release(key, ip):
				h.Metrics.Releases.Add(1)
				l.Expiry = h.cfg.Now().Truncate(time.Second)
				err = h.cfg.Store.Release(l)
			}
			if err != nil {
				h.Metrics.StoreErrors.Add(1)
				h.log.WithError(err).WithField("ip", ip).Error("dhcp6: lease change not stored")
			}
		}
	}
	m := h.base(r, dhcpv6.MessageTypeReply)
	m.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess, StatusMessage: "done"})
	h.count(m.MessageType)
	h.logDecision(r, m, "")
	return m
}
