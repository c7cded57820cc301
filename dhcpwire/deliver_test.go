package dhcpwire

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

var otherMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}

// TestRoute covers every rule of RFC 2131 section 4.1 and their order.
func TestRoute(t *testing.T) {
	gi := dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1))
	ci := dhcpv4.WithClientIP(net.IPv4(192, 0, 2, 7))
	bc := dhcpv4.WithBroadcast(true)
	tests := []struct {
		name      string
		mods      []dhcpv4.Modifier
		reply     dhcpv4.MessageType
		want      string
		wantL2    bool
		wantPort  int
		wantToMAC string
	}{
		{"relayed goes to giaddr:67", []dhcpv4.Modifier{gi, ci, bc}, dhcpv4.MessageTypeOffer, "198.51.100.1", false, 67, ""},
		{"relayed NAK goes to giaddr too", []dhcpv4.Modifier{gi}, dhcpv4.MessageTypeNak, "198.51.100.1", false, 67, ""},
		{"NAK is broadcast", []dhcpv4.Modifier{ci}, dhcpv4.MessageTypeNak, "255.255.255.255", true, 68, "ff:ff:ff:ff:ff:ff"},
		{"ciaddr gets unicast", []dhcpv4.Modifier{ci, bc}, dhcpv4.MessageTypeAck, "192.0.2.7", false, 68, ""},
		{"broadcast bit", []dhcpv4.Modifier{bc}, dhcpv4.MessageTypeOffer, "255.255.255.255", true, 68, "ff:ff:ff:ff:ff:ff"},
		{"otherwise yiaddr at chaddr", nil, dhcpv4.MessageTypeOffer, "192.0.2.100", true, 68, "52:54:00:aa:bb:cc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := dhcpv4.NewDiscovery(otherMAC, tt.mods...)
			if err != nil {
				t.Fatal(err)
			}
			reply, _ := dhcpv4.NewReplyFromRequest(req, dhcpv4.WithMessageType(tt.reply), dhcpv4.WithYourIP(net.IPv4(192, 0, 2, 100)))
			d := Route(req, reply)
			if d.IP.String() != tt.want || d.L2() != tt.wantL2 || d.Port != tt.wantPort || (tt.wantToMAC != "" && d.MAC.String() != tt.wantToMAC) {
				t.Errorf("Route = %s:%d l2=%v mac=%s; want %s:%d l2=%v mac=%s", d.IP, d.Port, d.L2(), d.MAC, tt.want, tt.wantPort, tt.wantL2, tt.wantToMAC)
			}
		})
	}
}
