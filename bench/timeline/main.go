// Command timeline measures what the boot timeline costs (bench/README.md,
// "Timeline"): the full DHCP handler's DISCOVER+REQUEST exchange with the
// timeline as its event sink and without, alternating round by round in
// one process, and the memory of a full timeline (machines x events).
// It opens no socket.
//
//	go run ./bench/timeline [-rounds 10] [-exchanges 20000] [-machines 1000] [-events 200]
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcp"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/leases"
	"github.com/rackboot/rackboot/timeline"
)

const inventory = `
dhcp:
  subnets:
    - cidr: 10.64.0.0/12
      range: 10.65.0.1-10.66.255.254
      lease_time: 1h
profiles:
  demo: {kernel: http://10.64.0.1:8080/assets/vmlinuz, initrd: [http://10.64.0.1:8080/assets/initrd.gz]}
default_profile: demo
`

func main() {
	rounds := flag.Int("rounds", 10, "alternating rounds of each configuration")
	n := flag.Int("exchanges", 20000, "DISCOVER+REQUEST exchanges per round")
	machines := flag.Int("machines", 1000, "machines in the memory test")
	evs := flag.Int("events", 200, "events per machine in the memory test")
	flag.Parse()
	if err := dhcpCost(*rounds, *n); err != nil {
		fmt.Fprintln(os.Stderr, "timeline bench:", err)
		os.Exit(1)
	}
	memory(*machines, *evs)
}

// dhcpCost runs rounds of n exchanges, timeline off then on, each round
// against a fresh handler (so that both see new clients), and prints the
// median and best cost per exchange of each.
func dhcpCost(rounds, n int) error {
	cfg, err := config.Parse("bench.yaml", []byte(inventory))
	if err != nil {
		return err
	}
	inv := boot.NewInventory(cfg)
	reqs := requests(n)
	cost := map[string][]float64{}
	for r := range rounds {
		for _, on := range []bool{r%2 == 0, r%2 != 0} {
			name, d, err := round(cfg, inv, reqs, on)
			if err != nil {
				return err
			}
			cost[name] = append(cost[name], float64(d.Nanoseconds())/float64(n))
		}
	}
	fmt.Printf("DHCP DISCOVER+REQUEST through dhcp.Handler (CPU time), %d exchanges x %d rounds, GOMAXPROCS %d\n", n, rounds, runtime.GOMAXPROCS(0))
	off, on := stats(cost["off"]), stats(cost["on"])
	fmt.Printf("  timeline off: median %.0f ns/exchange, best %.0f\n", off[0], off[1])
	fmt.Printf("  timeline on:  median %.0f ns/exchange, best %.0f (median %+.1f %%)\n", on[0], on[1], 100*(on[0]/off[0]-1))
	return nil
}

// round answers every request once and checks that every exchange got
// its OFFER and ACK.
func round(cfg *config.Config, inv *boot.Inventory, reqs [][2]*dhcpv4.DHCPv4, on bool) (string, time.Duration, error) {
	hc := dhcp.HandlerConfig{
		Inventory: func() *boot.Inventory { return inv }, Subnets: cfg.DHCP.Subnets,
		Server: boot.Server{Addr: netip.MustParseAddr("10.64.0.1"), HTTPPort: 8080}, Store: leases.NewMem(),
		Log: quiet,
	}
	name := "off"
	var tl *timeline.Store
	if on {
		var err error
		if tl, err = timeline.New(timeline.Config{}); err != nil {
			return "", 0, err
		}
		hc.Events, name = tl, "on"
	}
	h, err := dhcp.NewHandler(hc)
	if err != nil {
		return "", 0, err
	}
	runtime.GC()
	acks := 0
	start := cpuTime()
	for _, x := range reqs {
		var offer *dhcpv4.DHCPv4
		h.Respond(x[0], func(r *dhcpv4.DHCPv4) { offer = r })
		if offer == nil {
			return "", 0, fmt.Errorf("no OFFER for %s", x[0].ClientHWAddr)
		}
		x[1].UpdateOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr))
		done := make(chan bool, 1)
		h.Respond(x[1], func(r *dhcpv4.DHCPv4) { done <- r.MessageType() == dhcpv4.MessageTypeAck })
		if <-done {
			acks++
		}
	}
	d := cpuTime() - start
	if acks != len(reqs) {
		return "", 0, fmt.Errorf("%d ACKs for %d exchanges", acks, len(reqs))
	}
	if tl != nil && tl.Len() != min(len(reqs), timeline.DefaultMaxMachines) {
		return "", 0, fmt.Errorf("the timeline holds %d machines", tl.Len())
	}
	return name, d, nil
}

// quiet logs warnings only, as the DHCP benchmark runs rackboot.
var quiet = func() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.SetLevel(logrus.WarnLevel)
	return l
}()

// cpuTime is the process's user+system CPU time: on a machine shared
// with other work it moves much less than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// requests builds n PXE clients' DISCOVER and REQUEST.
func requests(n int) [][2]*dhcpv4.DHCPv4 {
	out := make([][2]*dhcpv4.DHCPv4, n)
	sid := net.IPv4(10, 64, 0, 1)
	for i := range out {
		mac := net.HardwareAddr{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		pxe := []dhcpv4.Modifier{
			dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")),
			dhcpv4.WithGeneric(dhcpv4.OptionClientSystemArchitectureType, []byte{0, 0}),
		}
		d, _ := dhcpv4.NewDiscovery(mac, pxe...)
		r, _ := dhcpv4.NewDiscovery(mac, append(pxe, dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(sid)))...)
		out[i] = [2]*dhcpv4.DHCPv4{d, r}
	}
	return out
}

// stats returns the median and the minimum.
func stats(xs []float64) [2]float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return [2]float64{s[len(s)/2], s[0]}
}

// memory fills a timeline with machines x evs events shaped like a boot
// (DHCP, TFTP, HTTP with fresh strings, as the servers make them) and
// prints the heap it holds.
func memory(machines, evs int) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tl, _ := timeline.New(timeline.Config{MaxMachines: machines, MaxEvents: evs})
	t := time.Now()
	for i := range machines {
		mac := events.MAC{0x02, 0, 0, 0, byte(i >> 8), byte(i)}
		addr := netip.AddrFrom4([4]byte{10, 65, byte(i >> 8), byte(i)})
		for j := range evs {
			t = t.Add(time.Millisecond)
			ev := events.Event{Time: t, MAC: mac, Addr: addr}
			switch j % 4 {
			case 0:
				ev.Kind, ev.Message, ev.Reply, ev.Class = events.KindDHCP, "DISCOVER", "OFFER", "pxe"
				ev.BootFile, ev.Profile, ev.Via = "http://10.64.0.1:8080/boot.ipxe", "demo", "default_profile"
			case 1:
				ev.Kind, ev.File, ev.Bytes, ev.Duration = events.KindTFTP, string([]byte("undionly.kpxe")), 74000, time.Second
			case 2:
				ev.Kind, ev.File, ev.Status, ev.Step = events.KindHTTP, "/ipxe?mac=02:00:00:00:"+strconv.Itoa(i), 200, events.StepScript
				ev.Kernel, ev.Initrd, ev.Profile = "vmlinuz", "initrd.gz", "demo"
			case 3:
				ev.Kind, ev.File, ev.Status, ev.Bytes = events.KindHTTP, string([]byte("/assets/vmlinuz")), 200, 8<<20
			}
			tl.Emit(ev)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Printf("memory: %d machines x %d events = %d events: %.1f MiB of heap (%.0f bytes per event)\n",
		tl.Len(), evs, machines*evs, float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), float64(after.HeapAlloc-before.HeapAlloc)/float64(machines*evs))
	runtime.KeepAlive(tl)
}
