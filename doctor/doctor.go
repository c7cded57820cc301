// Package doctor looks at a network segment before rackboot serves it:
// which DHCP servers answer a PXE client and whether they already send
// boot options, which of the ports rackboot needs are taken on this
// host, the interface's address and MTU, and from all of it which DHCP
// mode fits (full, proxy or off) with the exact command. The probe's I/O
// is in probe_linux.go; everything here is pure.
package doctor

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// PXEVendorClass is option 60 of the DISCOVER: a BIOS PXE ROM (PXE spec
// 2.1, UNDI 2.1), the most common client.
const PXEVendorClass = "PXEClient:Arch:00000:UNDI:002001"

// Discover builds the DHCPDISCOVER doctor sends: what a BIOS PXE ROM sends
// (options 60, 93, 94, 97 as in the PXE specification and RFC 4578), with
// the broadcast flag set so answers reach a client that has no address
// (RFC 2131 section 4.1).
func Discover(mac net.HardwareAddr, xid dhcpv4.TransactionID, uuid [16]byte) (*dhcpv4.DHCPv4, error) {
	return dhcpv4.New(
		dhcpv4.WithTransactionID(xid),
		dhcpv4.WithHwAddr(mac),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeDiscover),
		dhcpv4.WithBroadcast(true),
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier(PXEVendorClass)),
		dhcpv4.WithGeneric(dhcpv4.OptionClientSystemArchitectureType, []byte{0, 0}),
		dhcpv4.WithGeneric(dhcpv4.OptionClientNetworkInterfaceIdentifier, []byte{1, 2, 1}),
		dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, append([]byte{0}, uuid[:]...)),
		dhcpv4.WithRequestedOptions(dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter,
			dhcpv4.OptionVendorSpecificInformation, dhcpv4.OptionClassIdentifier,
			dhcpv4.OptionTFTPServerName, dhcpv4.OptionBootfileName),
	)
}

// Kind is what an answering server does for PXE clients.
type Kind int

const (
	// KindPlain hands out an address and no boot options.
	KindPlain Kind = iota
	// KindBoot hands out an address and boot options (next-server, boot
	// file, option 43 or 60 PXEClient): it already network-boots machines.
	KindBoot
	// KindProxy answers with boot options and no address: a proxyDHCP.
	KindProxy
)

func (k Kind) String() string {
	switch k {
	case KindBoot:
		return "DHCP server with boot options"
	case KindProxy:
		return "proxyDHCP (boot options, no address)"
	}
	return "DHCP server, no boot options"
}

// Answer is one server's OFFER to the probe.
type Answer struct {
	Server     netip.Addr // option 54, else the packet's source
	Source     netip.Addr // the IP source of the packet
	Offered    netip.Addr // yiaddr; invalid for a proxyDHCP
	NextServer netip.Addr // siaddr
	BootFile   string     // the file field, else option 67
	TFTPServer string     // option 66
	PXEClient  bool       // option 60 "PXEClient" echoed
	Option43   bool       // vendor options present
	Kind       Kind
}

// ParseAnswer reads an OFFER that answers the probe with transaction id
// xid. ok is false for anything else (another client's traffic, a NAK).
func ParseAnswer(b []byte, src netip.Addr, xid dhcpv4.TransactionID) (a Answer, ok bool) {
	p, err := dhcpv4.FromBytes(b)
	if err != nil || p.OpCode != dhcpv4.OpcodeBootReply || p.TransactionID != xid || p.MessageType() != dhcpv4.MessageTypeOffer {
		return Answer{}, false
	}
	a.Source = src
	a.Server = src
	if sid, ok := netip.AddrFromSlice(p.ServerIdentifier().To4()); ok && !sid.IsUnspecified() {
		a.Server = sid
	}
	a.Offered = nonZero(p.YourIPAddr)
	a.NextServer = nonZero(p.ServerIPAddr)
	a.BootFile = p.BootFileName
	if a.BootFile == "" {
		a.BootFile = p.BootFileNameOption()
	}
	a.TFTPServer = p.TFTPServerName()
	a.PXEClient = strings.HasPrefix(p.ClassIdentifier(), "PXEClient")
	a.Option43 = len(p.Options.Get(dhcpv4.OptionVendorSpecificInformation)) > 0
	boots := a.BootFile != "" || a.TFTPServer != "" || a.PXEClient || a.Option43
	switch {
	case !a.Offered.IsValid() && boots:
		a.Kind = KindProxy
	case boots:
		a.Kind = KindBoot
	default:
		a.Kind = KindPlain
	}
	return a, true
}

func nonZero(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// Port is one port rackboot needs and whether this host has it free.
type Port struct {
	Proto  string // "udp" or "tcp"
	Number int
	Use    string // what rackboot uses it for
	Free   bool
	Err    string // why not, when not free
}

// Interface is the probed interface.
type Interface struct {
	Name  string
	Up    bool
	MTU   int
	Addrs []netip.Prefix // IPv4
}

// Report is everything the doctor found.
type Report struct {
	Interface Interface
	Answers   []Answer
	Ports     []Port
	ProbeErr  string // the DISCOVER could not be sent or read
	// Probed6 is set when a DHCPv6 Solicit was sent too (dhcp6.go);
	// Answers6 are the Advertises, Probe6Err why none could be read.
	Probed6   bool
	Answers6  []Answer6
	Probe6Err string
	Config    string // the --config given, for the commands
}

// Recommendation is the mode to run and the command that runs it.
type Recommendation struct {
	Mode    string // full, proxy or off
	Command string
	Why     string
	Notes   []string // things to fix first (ports taken, no address)
}

// Recommend picks the mode from what was found:
//   - a server that already sends boot options (or a proxyDHCP): off, and
//     point that server at rackboot (two boot answers on one segment race);
//   - servers that hand out addresses only: proxy beside them;
//   - no server: full, rackboot as the segment's DHCP server.
//
// Ports taken or a missing address become notes: the command will fail
// until they are fixed.
func Recommend(r Report) Recommendation {
	var rec Recommendation
	ifname := r.Interface.Name
	cfg := ""
	if r.Config != "" {
		cfg = " --config " + r.Config
	}
	var boots, plain []string
	for _, a := range r.Answers {
		if a.Kind == KindPlain {
			plain = append(plain, a.Server.String())
		} else {
			boots = append(boots, a.Server.String())
		}
	}
	switch {
	case r.ProbeErr != "":
		rec.Mode = "unknown"
		rec.Why = "the DHCP probe failed (" + r.ProbeErr + "); fix that and run doctor again"
	case len(boots) > 0:
		rec.Mode = "off"
		rec.Command = "rackboot serve --interface " + ifname + cfg + "   # with dhcp.mode: off in the inventory"
		rec.Why = fmt.Sprintf("%s already sends boot options: a second boot answer would race it. Point it at rackboot instead (README: \"Point your own DHCP server at rackboot\"), or remove its boot options and run --proxy", strings.Join(boots, ", "))
	case len(plain) > 0:
		rec.Mode = "proxy"
		rec.Command = "rackboot serve --proxy --interface " + ifname + cfg
		rec.Why = fmt.Sprintf("%s hands out addresses without boot options: rackboot adds them as a proxyDHCP", strings.Join(plain, ", "))
	default:
		rec.Mode = "full"
		rec.Command = "rackboot serve --interface " + ifname + cfg + "   # dhcp.mode: full (the default)"
		rec.Why = "no DHCP server answered a PXE DISCOVER: rackboot can be this segment's DHCP server"
	}
	if len(r.Interface.Addrs) == 0 {
		rec.Notes = append(rec.Notes, fmt.Sprintf("%s has no IPv4 address: give it one (ip addr add ADDR/LEN dev %s)", ifname, ifname))
	}
	if !r.Interface.Up {
		rec.Notes = append(rec.Notes, fmt.Sprintf("%s is down: ip link set %s up", ifname, ifname))
	}
	for _, p := range r.Ports {
		if !p.Free && needs(rec.Mode, p) {
			rec.Notes = append(rec.Notes, fmt.Sprintf("%s/%d (%s) is taken on this host: %s; stop what holds it (ss -lunpt | grep :%d)", p.Proto, p.Number, p.Use, p.Err, p.Number))
		}
	}
	return rec
}

// needs reports whether mode needs port p: full binds 67, proxy 4011,
// every mode TFTP and HTTP.
func needs(mode string, p Port) bool {
	switch {
	case p.Proto == "udp" && p.Number == 67:
		return mode == "full"
	case p.Proto == "udp" && p.Number == 4011:
		return mode == "proxy"
	}
	return true
}

// Format writes the report and its recommendation as text.
func Format(r Report, rec Recommendation) string {
	var b strings.Builder
	ifi := r.Interface
	state := "up"
	if !ifi.Up {
		state = "DOWN"
	}
	addrs := make([]string, len(ifi.Addrs))
	for i, a := range ifi.Addrs {
		addrs[i] = a.String()
	}
	if len(addrs) == 0 {
		addrs = []string{"no IPv4 address"}
	}
	fmt.Fprintf(&b, "interface %s: %s, mtu %d, %s\n", ifi.Name, state, ifi.MTU, strings.Join(addrs, " "))
	fmt.Fprintf(&b, "\nDHCP servers answering a PXE DISCOVER (%s):\n", PXEVendorClass)
	switch {
	case r.ProbeErr != "":
		fmt.Fprintf(&b, "  probe failed: %s\n", r.ProbeErr)
	case len(r.Answers) == 0:
		b.WriteString("  none\n")
	}
	answers := append([]Answer{}, r.Answers...)
	sort.Slice(answers, func(i, j int) bool { return answers[i].Server.Less(answers[j].Server) })
	for _, a := range answers {
		fmt.Fprintf(&b, "  %s: %s", a.Server, a.Kind)
		if a.Offered.IsValid() {
			fmt.Fprintf(&b, ", offers %s", a.Offered)
		}
		var boot []string
		if a.NextServer.IsValid() {
			boot = append(boot, "next-server "+a.NextServer.String())
		}
		if a.BootFile != "" {
			boot = append(boot, fmt.Sprintf("boot file %q", a.BootFile))
		}
		if a.TFTPServer != "" {
			boot = append(boot, fmt.Sprintf("option 66 %q", a.TFTPServer))
		}
		if a.PXEClient {
			boot = append(boot, "option 60 PXEClient")
		}
		if a.Option43 {
			boot = append(boot, "option 43")
		}
		if len(boot) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(boot, ", "))
		}
		b.WriteString("\n")
	}
	if r.Probed6 {
		formatIPv6(&b, r)
	}
	b.WriteString("\nports on this host:\n")
	for _, p := range r.Ports {
		state := "free"
		if !p.Free {
			state = "TAKEN: " + p.Err
		}
		fmt.Fprintf(&b, "  %s/%-5d %-28s %s\n", p.Proto, p.Number, p.Use, state)
	}
	fmt.Fprintf(&b, "\nrecommendation: %s mode\n  %s\n", rec.Mode, rec.Why)
	if rec.Command != "" {
		fmt.Fprintf(&b, "  run: %s\n", rec.Command)
	}
	for _, n := range rec.Notes {
		fmt.Fprintf(&b, "  first: %s\n", n)
	}
	return b.String()
}
