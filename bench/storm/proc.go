package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procWatch measures server processes: CPU time (user + system, from
// /proc/PID/stat) spent between its start and stop, and the peak of their
// summed resident memory, sampled every 20 ms (and each process's own
// VmHWM, which catches peaks between samples).
type procWatch struct {
	roots []int
	cpu0  time.Duration
	done  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	peakSum int64
	hwm     map[int]int64
}

func newProcWatch(list string) *procWatch {
	w := &procWatch{done: make(chan struct{}), hwm: map[int]int64{}}
	for _, f := range strings.Split(list, ",") {
		if p, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			w.roots = append(w.roots, p)
		}
	}
	w.cpu0 = w.cpu()
	w.wg.Add(1)
	go w.sample()
	return w
}

// pids returns the roots and all their descendants.
func (w *procWatch) pids() []int {
	var out []int
	todo := append([]int(nil), w.roots...)
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		out = append(out, p)
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", p, t.Name()))
			for _, c := range strings.Fields(string(b)) {
				if k, err := strconv.Atoi(c); err == nil {
					todo = append(todo, k)
				}
			}
		}
	}
	return out
}

func (w *procWatch) cpu() time.Duration {
	var ticks int64
	for _, p := range w.pids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// Fields after the command name, which may hold spaces: state is
		// field 3, utime 14, stime 15.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

func (w *procWatch) sample() {
	defer w.wg.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		var sum int64
		for _, p := range w.pids() {
			rss, hwm := memOf(p)
			sum += rss
			w.mu.Lock()
			w.hwm[p] = max(w.hwm[p], hwm)
			w.mu.Unlock()
		}
		w.mu.Lock()
		w.peakSum = max(w.peakSum, sum)
		w.mu.Unlock()
		select {
		case <-w.done:
			return
		case <-t.C:
		}
	}
}

// memOf returns VmRSS and VmHWM of p in bytes.
func memOf(p int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// stop ends the sampling and returns the CPU time spent since the start
// and the peak resident memory: the larger of the peak sampled sum and the
// sum of the processes' own high-water marks (each process here is started
// for the run, so its VmHWM is its peak during it).
func (w *procWatch) stop() (time.Duration, int64) {
	cpu := w.cpu() - w.cpu0
	close(w.done)
	w.wg.Wait()
	var hwmSum int64
	for _, h := range w.hwm {
		hwmSum += h
	}
	return cpu, max(w.peakSum, hwmSum)
}

// udpStats are the namespace's UDP counters (/proc/net/snmp) that say the
// generator's own sockets dropped datagrams.
type udpStats struct{ inErrors, rcvbufErrors int64 }

func readUDPStats() udpStats {
	b, _ := os.ReadFile("/proc/net/snmp")
	var names, vals []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "Udp: ") {
			continue
		}
		if names == nil {
			names = strings.Fields(l)
		} else {
			vals = strings.Fields(l)
		}
	}
	var s udpStats
	for i := range min(len(names), len(vals)) {
		v, _ := strconv.ParseInt(vals[i], 10, 64)
		switch names[i] {
		case "InErrors":
			s.inErrors = v
		case "RcvbufErrors":
			s.rcvbufErrors = v
		}
	}
	return s
}

func (s udpStats) minus(o udpStats) udpStats {
	return udpStats{s.inErrors - o.inErrors, s.rcvbufErrors - o.rcvbufErrors}
}
