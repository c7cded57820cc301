package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

// parallelDownloads fetches url k times at once, each on its own
// connection, and prints the wall time until the last one finished, the
// slowest and median single download, failures, and the server's CPU and
// memory. It returns the exit status.
func parallelDownloads(ctx context.Context, url string, k int, label string, procs *procWatch) int {
	times := make([]time.Duration, k)
	errs := make([]error, k)
	sizes := make([]int64, k)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			defer hc.CloseIdleConnections()
			t0 := time.Now()
			sizes[i], errs[i] = download(ctx, hc, url)
			times[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu, rss := procs.stop()
	failed, first := 0, ""
	var total int64
	for i, err := range errs {
		total += sizes[i]
		if err != nil {
			if failed == 0 {
				first = err.Error()
			}
			failed++
		}
	}
	slices.Sort(times)
	fmt.Printf("download %s parallel=%d failed=%d wall=%.2f median=%.2f slowest=%.2f bytes=%d server_cpu=%.2f server_rss_mb=%.1f\n",
		label, k, failed, wall.Seconds(), percentile(times, 50).Seconds(), percentile(times, 100).Seconds(),
		total, cpu.Seconds(), float64(rss)/(1<<20))
	if failed > 0 {
		fmt.Fprintln(os.Stderr, "  e.g.", first)
		return 1
	}
	return 0
}
