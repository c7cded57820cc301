package timeline

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rackboot/rackboot/events"
)

func benchEvent() events.Event {
	return events.Event{Time: time.Now(), Kind: events.KindDHCP, Addr: netip.MustParseAddr("10.65.0.1"), Message: "DISCOVER",
		Reply: "OFFER", Class: "pxe", BootFile: "undionly.kpxe", Profile: "demo", Via: "default_profile"}
}

// BenchmarkEmitKnown: one machine, its ring full.
func BenchmarkEmitKnown(b *testing.B) {
	s, _ := New(Config{})
	ev := benchEvent()
	ev.MAC = events.MAC{2, 0, 0, 0, 0, 1}
	b.ReportAllocs()
	for b.Loop() {
		s.Emit(ev)
	}
}

// BenchmarkEmitNew: a new MAC every time, the store full (the DHCP
// benchmark's 60,000 clients).
func BenchmarkEmitNew(b *testing.B) {
	s, _ := New(Config{})
	ev := benchEvent()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		ev.MAC = events.MAC{2, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		ev.Addr = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		s.Emit(ev)
	}
}
