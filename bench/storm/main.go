// Command storm plays a rack of machines powering on at once against a
// network boot server: each machine runs the whole sequence (PXE DHCP,
// TFTP of the boot program, iPXE DHCP, the HTTP boot script, a kernel and
// its initrds) and storm reports per-machine completion times, failures by
// step, and the server's CPU time and peak memory from /proc.
//
// It is a benchmark (bench/storm/run.sh, bench/README.md "Boot storm"):
// run it only inside a network namespace, on the interface that faces the
// server. Every run is bounded: -n machines, -timeout each, -deadline in all.
//
//	storm -iface st-c -n 1000 -pids 1234,5678
//	storm -http URL -parallel 200     (only parallel downloads of one file)
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	iface := flag.String("iface", "", "interface facing the server (DHCP is broadcast on it)")
	n := flag.Int("n", 100, "machines")
	uefiShare := flag.Float64("uefi", 0.5, "share of the machines that are UEFI (the rest BIOS)")
	spread := flag.Duration("spread", time.Second, "machines power on spread evenly over this long")
	steps := flag.String("steps", strings.Join(allSteps, ","), "steps to run, of "+strings.Join(allSteps, ","))
	blksize := flag.Int("blksize", 1432, "TFTP blksize the firmware asks for")
	biosFile := flag.String("bios-file", "undionly.kpxe", "boot program BIOS clients must be sent to")
	uefiFile := flag.String("uefi-file", "ipxe.efi", "boot program UEFI clients must be sent to")
	timeout := flag.Duration("timeout", 3*time.Minute, "a machine that has not finished by then failed")
	deadline := flag.Duration("deadline", 10*time.Minute, "the whole run ends by then")
	pids := flag.String("pids", "", "server process IDs (comma-separated; their children count too)")
	label := flag.String("label", "", "name of the server in the summary line")
	httpURL := flag.String("http", "", "instead of a storm: download this URL -parallel times at once")
	parallel := flag.Int("parallel", 200, "downloads at once with -http")
	flag.Parse()

	procs := newProcWatch(*pids)
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	if *httpURL != "" {
		os.Exit(parallelDownloads(ctx, *httpURL, *parallel, *label, procs))
	}
	if *iface == "" || *n <= 0 || *n > 100000 {
		fmt.Fprintln(os.Stderr, "storm: -iface is required and -n must be 1..100000")
		os.Exit(2)
	}
	c, err := listenDHCP(*iface)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storm:", err)
		os.Exit(1)
	}
	defer c.Close()
	e := &env{dhcp: c, steps: stepSet(*steps), blksize: *blksize, biosFile: *biosFile, uefiFile: *uefiFile, timeout: *timeout}
	udp0 := readUDPStats()
	start := time.Now()
	results := storm(ctx, e, *n, *uefiShare, *spread)
	wall := time.Since(start)
	cpu, rss := procs.stop()
	rep := summarize(results)
	rep.print(os.Stdout, *label, *n, wall, cpu, rss, readUDPStats().minus(udp0))
	if rep.failed > 0 {
		os.Exit(1)
	}
}

func stepSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, st := range strings.Split(s, ",") {
		m[strings.TrimSpace(st)] = true
	}
	return m
}

// storm powers n machines on, spread evenly over spread, and waits for all.
func storm(ctx context.Context, e *env, n int, uefiShare float64, spread time.Duration) []result {
	results := make([]result, n)
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(13, uint64(n)))
	for i := range n {
		m := newMachine(i, rng.Float64() < uefiShare)
		at := time.Duration(0)
		if n > 1 {
			at = spread * time.Duration(i) / time.Duration(n-1)
		}
		wg.Add(1)
		time.AfterFunc(at, func() {
			defer wg.Done()
			results[i] = m.boot(ctx, e)
		})
	}
	wg.Wait()
	return results
}
