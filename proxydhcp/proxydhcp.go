// Package proxydhcp is rackboot's proxyDHCP responder: beside a DHCP server
// it cannot change, it tells PXE, HTTP Boot and iPXE clients what to boot
// and never hands out an address (PXE 2.1 specification section 2.2.5).
package proxydhcp

import (
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/logx"
)

// BootServerPort is the PXE boot server port, where UEFI firmware and iPXE
// send their REQUEST after a proxyDHCP offer.
const BootServerPort = 4011

// Counters are the responder's running totals. Malformed requests are
// counted by the dhcpwire.Server of each port.
type Counters struct {
	Offers  atomic.Uint64 // proxy offers to DISCOVERs on port 67
	Acks    atomic.Uint64 // acks to REQUESTs on port 4011
	Ignored atomic.Uint64 // not PXE, relayed, or nothing to boot
}

// Snapshot reads the counters, for /metrics.
func (c *Counters) Snapshot() map[string]uint64 {
	return map[string]uint64{"offers": c.Offers.Load(), "acks": c.Acks.Load(), "ignored": c.Ignored.Load()}
}

// Responder builds proxyDHCP replies: Respond answers the DISCOVERs read on
// port 67, BootServer the requests sent to port 4011. Both run under a
// dhcpwire.Server.
type Responder struct {
	inv      func() *boot.Inventory
	srv      boot.Server
	log      logrus.FieldLogger
	events   events.Sink
	refusals dhcpwire.Refusals
	Counters Counters
}

var _ dhcpwire.Responder = (*Responder)(nil)

// New returns a responder that advertises srv and asks inv what each
// client boots. A nil log logs nothing; sink, when not nil, receives an
// event for every request answered or ignored (package events).
func New(inv func() *boot.Inventory, srv boot.Server, log logrus.FieldLogger, sink events.Sink) *Responder {
	return &Responder{inv: inv, srv: srv, log: logx.OrDiscard(log), events: sink}
}

// WithRefusals returns a copy of r that asks rf which firmware refused
// iPXE (loader auto; package timeline answers).
func (r *Responder) WithRefusals(rf dhcpwire.Refusals) *Responder {
	return &Responder{inv: r.inv, srv: r.srv, log: r.log, events: r.events, refusals: rf}
}

// Respond implements dhcpwire.Responder for port 67: a DISCOVER gets a
// proxy OFFER; every other message there belongs to the real DHCP server
// and gets nothing.
func (r *Responder) Respond(req *dhcpv4.DHCPv4, send func(*dhcpv4.DHCPv4)) {
	sendIf(send, r.offer(req))
}

func (r *Responder) offer(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	if dhcpwire.MessageTypeOf(req) != dhcpv4.MessageTypeDiscover {
		return nil
	}
	if _, relayed := dhcpwire.AddrOf(req.GatewayIPAddr); relayed {
		r.ignore(req, "relayed request; proxyDHCP answers attached segments only")
		return nil
	}
	return counted(r.reply(req, dhcpv4.MessageTypeOffer), &r.Counters.Offers)
}

// BootServer is the responder for port 4011: a REQUEST (or INFORM) gets an
// ACK carrying the same boot fields as the offer.
func (r *Responder) BootServer() dhcpwire.Responder {
	return dhcpwire.ResponderFunc(r.bootServerAck)
}

func (r *Responder) bootServerAck(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	switch dhcpwire.MessageTypeOf(req) {
	case dhcpv4.MessageTypeRequest, dhcpv4.MessageTypeInform:
	default:
		r.ignore(req, "not a REQUEST or INFORM on the boot server port")
		return nil
	}
	return counted(r.reply(req, dhcpv4.MessageTypeAck), &r.Counters.Acks)
}

func sendIf(send func(*dhcpv4.DHCPv4), reply *dhcpv4.DHCPv4) {
	if reply != nil {
		send(reply)
	}
}

// counted adds one to c when there is a reply, and returns it.
func counted(reply *dhcpv4.DHCPv4, c *atomic.Uint64) *dhcpv4.DHCPv4 {
	if reply != nil {
		c.Add(1)
	}
	return reply
}

// reply builds an OFFER or ACK with no address: server identifier, next
// server, boot file and the options PXE firmware merges.
func (r *Responder) reply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType) *dhcpv4.DHCPv4 {
	c, d := dhcpwire.Decide(req, r.inv(), r.srv, r.refusals)
	bf, ok := dhcpwire.FieldsFor(d.Next, r.srv)
	if !ok {
		r.ignore(req, d.Next.Why)
		return nil
	}
	r.emit(req, c, mt.String(), &d, bf.File, "")
	reply := dhcpwire.NewReply(req, mt, r.srv.Addr)
	reply.ServerIPAddr = r.srv.Addr.AsSlice()
	bf.ForProxy(c).Apply(reply)
	r.log.WithFields(logrus.Fields{
		"mac": req.ClientHWAddr.String(), "class": c.Facts.Class.String(), "bootfile": bf.File,
		"profile": d.ProfileName(), "via": d.Via(),
	}).Info("proxydhcp " + map[dhcpv4.MessageType]string{dhcpv4.MessageTypeOffer: "offer", dhcpv4.MessageTypeAck: "ack"}[mt])
	return reply
}

func (r *Responder) ignore(req *dhcpv4.DHCPv4, why string) {
	r.Counters.Ignored.Add(1)
	if r.events != nil {
		r.emit(req, dhcpwire.Classify(req), "", nil, "", why)
	}
	r.log.WithFields(logrus.Fields{"mac": req.ClientHWAddr.String(), "type": dhcpwire.MessageTypeOf(req).String()}).
		Debug("proxydhcp: ignored: " + why)
}

// emit tells the sink about one request: the reply sent ("" for none),
// the boot file and the decision, or why it was ignored.
func (r *Responder) emit(req *dhcpv4.DHCPv4, c dhcpwire.Client, reply string, d *boot.Decision, bootFile, why string) {
	if r.events == nil {
		return
	}
	ev := events.Event{
		Time: time.Now(), MAC: events.MACOf(req.ClientHWAddr), Kind: events.KindProxyDHCP,
		Message: dhcpwire.MessageTypeOf(req).String(), Reply: reply, Class: c.Facts.Class.String(),
		Arch: uint16(c.Facts.Arch), HasArch: c.Facts.HasArch, Hostname: c.Facts.Hostname,
		BootFile: bootFile, Reason: why,
	}
	if a, ok := dhcpwire.AddrOf(req.ClientIPAddr); ok {
		ev.Addr = a
	}
	if d != nil && d.Profile != nil {
		ev.Profile, ev.Via, ev.Group = d.Profile.Name, d.Source.String(), d.Group
	}
	if d != nil && bootFile != "" {
		ev.Loader = d.Next.Loader
	}
	r.events.Emit(ev)
}
