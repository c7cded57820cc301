package main

import (
	"runtime/debug"
)

// Garbage collector settings of `serve` when the environment sets none.
// A DHCP exchange allocates a few kilobytes that die at once (the parsed
// request, the reply, its bytes), so at 10,000 exchanges a second the
// collector ran several times a second over a small live heap; GOGC 400
// runs it a quarter as often. The soft memory limit brings the default
// back for large heaps (hundreds of thousands of leases), so resident
// memory stays near what GOGC 100 gives them. GOGC and GOMEMLIMIT in the
// environment override both (README, "Command line").
const (
	serveGCPercent   = 400
	serveMemoryLimit = 256 << 20
)

// tuneGC applies the settings above unless getenv names GOGC or
// GOMEMLIMIT.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
