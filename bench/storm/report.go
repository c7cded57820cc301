package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// report is a storm's outcome.
type report struct {
	times    []time.Duration // of the machines that completed, sorted
	failed   int
	byStep   map[string]int
	examples map[string]string // one error per failed step
	bytes    int64
}

func summarize(rs []result) report {
	r := report{byStep: map[string]int{}, examples: map[string]string{}}
	for _, x := range rs {
		r.bytes += x.bytes
		if x.failStep != "" {
			r.failed++
			r.byStep[x.failStep]++
			if _, ok := r.examples[x.failStep]; !ok && x.err != nil {
				r.examples[x.failStep] = x.err.Error()
			}
			continue
		}
		r.times = append(r.times, x.took)
	}
	slices.Sort(r.times)
	return r
}

// percentile returns the nearest-rank p-th percentile of sorted d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	k := int(p/100*float64(len(d))+0.999999) - 1
	return d[min(max(k, 0), len(d)-1)]
}

func (r report) print(w io.Writer, label string, n int, wall time.Duration, cpu time.Duration, rss int64, udp udpStats) {
	s := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
	var steps []string
	for st, k := range r.byStep {
		steps = append(steps, fmt.Sprintf("%s=%d", st, k))
	}
	sort.Strings(steps)
	fails := strings.Join(steps, ",")
	if fails == "" {
		fails = "none"
	}
	fmt.Fprintf(w, "storm %s n=%d completed=%d failed=%d p50=%s p95=%s p99=%s max=%s wall=%s server_cpu=%s server_rss_mb=%.1f bytes=%d fails=%s gen_udp_rcvbuf_errors=%d gen_udp_in_errors=%d\n",
		label, n, len(r.times), r.failed, s(percentile(r.times, 50)), s(percentile(r.times, 95)),
		s(percentile(r.times, 99)), s(percentile(r.times, 100)), s(wall), s(cpu), float64(rss)/(1<<20), r.bytes, fails,
		udp.rcvbufErrors, udp.inErrors)
	for st, e := range r.examples {
		fmt.Fprintf(w, "  e.g. %s: %s\n", st, e)
	}
}
