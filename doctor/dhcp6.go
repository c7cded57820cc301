package doctor

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// PXEVendorClass6 is option 16 of the Solicit: OVMF's PXE over IPv6.
const PXEVendorClass6 = "PXEClient:Arch:00007:UNDI:003000"

// Solicit6 builds the DHCPv6 Solicit doctor sends: what OVMF's PXE over
// IPv6 sends (a DUID-LL of mac, ORO 59 60 23 16, option 61 = 7, option 16
// PXEClient under enterprise 343, one IA_NA; RFC 8415, RFC 5970).
func Solicit6(mac net.HardwareAddr, xid dhcpv6.TransactionID) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeSolicit, TransactionID: xid}
	m.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac}))
	m.AddOption(dhcpv6.OptRequestedOption(dhcpv6.OptionBootfileURL, dhcpv6.OptionBootfileParam,
		dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionVendorClass))
	m.AddOption(dhcpv6.OptElapsedTime(0))
	m.AddOption(dhcpv6.OptClientArchType(iana.EFI_X86_64))
	m.AddOption(&dhcpv6.OptVendorClass{EnterpriseNumber: 343, Data: [][]byte{[]byte(PXEVendorClass6)}})
	m.AddOption(&dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}})
	return m
}

// Answer6 is one DHCPv6 server's Advertise to the probe.
type Answer6 struct {
	Server      string     // its DUID (option 2)
	Source      netip.Addr // the IP source of the packet
	Offered     netip.Addr // the IA_NA address; invalid when none
	BootFileURL string     // option 59
	VendorClass string     // option 16 (enterprise 343)
	Kind        Kind
}

// ParseAnswer6 reads an Advertise (or a rapid-commit Reply) that answers
// the probe with transaction id xid; ok is false for anything else.
func ParseAnswer6(b []byte, src netip.Addr, xid dhcpv6.TransactionID) (a Answer6, ok bool) {
	m, err := dhcpv6.MessageFromBytes(b)
	if err != nil || m.TransactionID != xid || (m.MessageType != dhcpv6.MessageTypeAdvertise && m.MessageType != dhcpv6.MessageTypeReply) {
		return Answer6{}, false
	}
	sid := m.Options.ServerID()
	if sid == nil {
		return Answer6{}, false
	}
	a.Server, a.Source = fmt.Sprintf("%x", sid.ToBytes()), src
	if ia := m.Options.OneIANA(); ia != nil {
		if addr := ia.Options.OneAddress(); addr != nil {
			a.Offered, _ = netip.AddrFromSlice(addr.IPv6Addr)
		}
	}
	a.BootFileURL = m.Options.BootFileURL()
	if vc := m.Options.VendorClass(343); len(vc) > 0 {
		a.VendorClass = string(vc[0])
	}
	switch boots := a.BootFileURL != ""; {
	case !a.Offered.IsValid() && boots:
		a.Kind = KindProxy
	case boots:
		a.Kind = KindBoot
	default:
		a.Kind = KindPlain
	}
	return a, true
}

// formatIPv6 writes the DHCPv6 part of a report.
func formatIPv6(b *strings.Builder, r Report) {
	fmt.Fprintf(b, "\nDHCPv6 servers answering a PXE Solicit (%s):\n", PXEVendorClass6)
	switch {
	case r.Probe6Err != "":
		fmt.Fprintf(b, "  probe failed: %s\n", r.Probe6Err)
	case len(r.Answers6) == 0:
		b.WriteString("  none\n")
	}
	answers := append([]Answer6{}, r.Answers6...)
	sort.Slice(answers, func(i, j int) bool { return answers[i].Source.Less(answers[j].Source) })
	for _, a := range answers {
		fmt.Fprintf(b, "  %s (DUID %s): %s", a.Source, a.Server, a.Kind)
		if a.Offered.IsValid() {
			fmt.Fprintf(b, ", offers %s", a.Offered)
		}
		var boot []string
		if a.BootFileURL != "" {
			boot = append(boot, "boot file URL "+a.BootFileURL)
		}
		if a.VendorClass != "" {
			boot = append(boot, "option 16 "+a.VendorClass)
		}
		if len(boot) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(boot, ", "))
		}
		b.WriteString("\n")
	}
}
