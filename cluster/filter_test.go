package cluster

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/dhcpwire"
)

// ownBuckets owns the buckets listed.
type ownBuckets map[uint8]bool

func (o ownBuckets) OwnsClient(id, chaddr []byte) bool { return o[ClientHash(id, chaddr)] }

func TestFilter(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56} // bucket 156
	id := []byte{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}         // bucket 253
	msg := func(mt dhcpv4.MessageType, opts ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(append(opts, dhcpv4.WithMessageType(mt), dhcpv4.WithHwAddr(mac))...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	withID := dhcpv4.WithOption(dhcpv4.OptClientIdentifier(id))
	tests := []struct {
		name   string
		owned  ownBuckets
		req    *dhcpv4.DHCPv4
		passes bool
	}{
		{"own MAC's bucket", ownBuckets{156: true}, msg(dhcpv4.MessageTypeDiscover), true},
		{"another's bucket", ownBuckets{1: true}, msg(dhcpv4.MessageTypeDiscover), false},
		{"client id decides, not the MAC", ownBuckets{156: true}, msg(dhcpv4.MessageTypeDiscover, withID), false},
		{"client id's bucket", ownBuckets{253: true}, msg(dhcpv4.MessageTypeRequest, withID), true},
		{"inform filtered", ownBuckets{}, msg(dhcpv4.MessageTypeInform), false},
		{"release always passes", ownBuckets{}, msg(dhcpv4.MessageTypeRelease), true},
		{"decline always passes", ownBuckets{}, msg(dhcpv4.MessageTypeDecline), true},
	}
	for _, tt := range tests {
		var got int
		var skipped atomic.Uint64
		next := dhcpwire.ResponderFunc(func(*dhcpv4.DHCPv4) *dhcpv4.DHCPv4 { got++; return nil })
		Filter(next, tt.owned, &skipped).Respond(tt.req, func(*dhcpv4.DHCPv4) {})
		if (got == 1) != tt.passes || skipped.Load() != uint64(1-got) {
			t.Errorf("%s: passed %d times, skipped %d; want passes=%v", tt.name, got, skipped.Load(), tt.passes)
		}
	}
}
