// Package proxydhcp is rackboot's proxyDHCP responder: beside a DHCP server
// it cannot change, it tells PXE, HTTP Boot and iPXE clients what to boot
// and never hands out an address (PXE 2.1 specification section 2.2.5).
package proxydhcp

import (
	"context"
	"errors"
	"net"
	"sync/atomic"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcp"
)

// BootServerPort is the PXE boot server port, where UEFI firmware and iPXE
// send their REQUEST after a proxyDHCP offer.
const BootServerPort = 4011

// Counters are the responder's running totals.
type Counters struct {
	Offers    atomic.Uint64 // proxy offers to DISCOVERs on port 67
	Acks      atomic.Uint64 // acks to REQUESTs on port 4011
	Ignored   atomic.Uint64 // not PXE, relayed, or nothing to boot
	Malformed atomic.Uint64 // unparseable on port 4011
}

// Responder builds proxyDHCP replies. It implements dhcp.Responder for the
// DISCOVERs read on port 67.
type Responder struct {
	inv      func() *boot.Inventory
	srv      dhcp.ServerInfo
	log      logrus.FieldLogger
	Counters Counters
}

var _ dhcp.Responder = (*Responder)(nil)

// New returns a responder that advertises srv and asks inv what each
// client boots.
func New(inv func() *boot.Inventory, srv dhcp.ServerInfo, log logrus.FieldLogger) *Responder {
	return &Responder{inv: inv, srv: srv, log: log}
}

// Handle answers a DISCOVER seen on port 67 with a proxy OFFER; every other
// message there belongs to the real DHCP server and gets nothing.
func (r *Responder) Handle(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	if req.MessageType() != dhcpv4.MessageTypeDiscover {
		return nil
	}
	if !req.GatewayIPAddr.IsUnspecified() && req.GatewayIPAddr != nil {
		r.ignore(req, "relayed request; proxyDHCP answers attached segments only")
		return nil
	}
	return counted(r.reply(req, dhcpv4.MessageTypeOffer), &r.Counters.Offers)
}

// HandleBootServer answers a REQUEST (or INFORM) sent to port 4011 with an
// ACK carrying the same boot fields as the offer.
func (r *Responder) HandleBootServer(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	switch req.MessageType() {
	case dhcpv4.MessageTypeRequest, dhcpv4.MessageTypeInform:
	default:
		r.ignore(req, "not a REQUEST or INFORM on the boot server port")
		return nil
	}
	return counted(r.reply(req, dhcpv4.MessageTypeAck), &r.Counters.Acks)
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
	if req.OpCode != dhcpv4.OpcodeBootRequest {
		return nil
	}
	c := dhcp.Classify(req)
	if c.Class == dhcp.ClassPlain {
		r.ignore(req, "not a PXE, HTTP Boot or iPXE client")
		return nil
	}
	d := r.inv().Decide(c.Facts)
	bf, err := dhcp.BootFor(c, d, r.srv)
	if err != nil {
		r.ignore(req, err.Error())
		return nil
	}
	reply, err := dhcpv4.NewReplyFromRequest(req,
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithYourIP(net.IPv4zero),
		dhcpv4.WithServerIP(r.srv.Addr.AsSlice()),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(r.srv.Addr.AsSlice())),
	)
	if err != nil {
		return nil
	}
	bf.ForProxy(c).Apply(reply)
	r.log.WithFields(logrus.Fields{
		"mac": req.ClientHWAddr.String(), "class": c.Class.String(), "bootfile": bf.File,
		"profile": d.Profile.Name, "via": d.Source,
	}).Info("proxydhcp " + map[dhcpv4.MessageType]string{dhcpv4.MessageTypeOffer: "offer", dhcpv4.MessageTypeAck: "ack"}[mt])
	return reply
}

func (r *Responder) ignore(req *dhcpv4.DHCPv4, why string) {
	r.Counters.Ignored.Add(1)
	r.log.WithFields(logrus.Fields{"mac": req.ClientHWAddr.String(), "type": req.MessageType().String()}).
		Debug("proxydhcp: ignored: " + why)
}

// ServeBootServer answers requests on conn (UDP port 4011) until ctx ends,
// replying to each request's source address. Requests there are rare (one
// per booting client), so one goroutine serves them in order.
func (r *Responder) ServeBootServer(ctx context.Context, conn net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		req, err := dhcpv4.FromBytes(buf[:n])
		if err != nil {
			r.Counters.Malformed.Add(1)
			r.log.WithError(err).WithField("from", from).Debug("proxydhcp: malformed request on port 4011 dropped")
			continue
		}
		if reply := r.HandleBootServer(req); reply != nil {
			if _, err := conn.WriteTo(reply.ToBytes(), from); err != nil {
				r.log.WithError(err).WithField("to", from).Warn("proxydhcp: sending boot server reply")
			}
		}
	}
}
