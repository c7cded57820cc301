// Command genleases fills a lease store with N bound leases through the
// store's group commit, as many writers at once as a busy server would
// have, and reports the commit rate: the input of the benchmark's restart
// and memory measurement, and a measure of the store alone.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/rackboot/rackboot/leases"
)

func main() {
	dir := flag.String("dir", "", "data directory to fill")
	n := flag.Int("n", 100000, "leases")
	first := flag.String("first", "10.65.0.1", "first address")
	inflight := flag.Int("inflight", 256, "changes waiting for the disk at once")
	flag.Parse()
	st, err := leases.Open(*dir)
	if err != nil {
		log.Fatal(err)
	}
	ip := netip.MustParseAddr(*first)
	sem := make(chan struct{}, *inflight)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range *n {
		sem <- struct{}{}
		wg.Add(1)
		st.Commit(leases.Lease{
			IP: ip, MAC: net.HardwareAddr{2, 0x42, 0, byte(i >> 16), byte(i >> 8), byte(i)},
			State: leases.Bound, Expiry: time.Now().Add(24 * time.Hour), Hostname: fmt.Sprintf("node%d", i),
		}, func(err error) {
			if err != nil {
				log.Fatal(err)
			}
			<-sem
			wg.Done()
		})
		ip = ip.Next()
	}
	wg.Wait()
	took := time.Since(start)
	syncs := st.Syncs()
	if err := st.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d leases committed in %s: %.0f/s, %d fdatasyncs (%.1f leases per sync)\n",
		*n, took.Round(time.Millisecond), float64(*n)/took.Seconds(), syncs, float64(*n)/float64(syncs))
}
