package tftp

// Snapshot reads the counters, for /metrics.
func (c *Counters) Snapshot() map[string]uint64 {
	return map[string]uint64{
		"transfers": c.Transfers.Load(), "failed": c.Failed.Load(),
		"busy": c.Busy.Load(), "bytes": c.Bytes.Load(),
	}
}
