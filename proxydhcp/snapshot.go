package proxydhcp

// Snapshot reads the counters, for /metrics.
func (c *Counters) Snapshot() map[string]uint64 {
	return map[string]uint64{
		"offers": c.Offers.Load(), "acks": c.Acks.Load(),
		"ignored": c.Ignored.Load(), "malformed": c.Malformed.Load(),
	}
}
