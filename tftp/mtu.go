package tftp

import (
	"net"
	"sync"
	"time"
)

// mtuCache remembers each interface's MTU for a while, so that a burst of
// requests does not ask the kernel for the interface list every time.
type mtuCache struct {
	mu   sync.Mutex
	mtus map[int]mtuEntry
}

type mtuEntry struct {
	mtu  int
	when time.Time
}

const mtuTTL = 30 * time.Second

func newMTUCache() *mtuCache { return &mtuCache{mtus: map[int]mtuEntry{}} }

// blockLimit is the largest block that fits one unfragmented IPv4 packet
// on the interface with this index; 0 when the interface is not known
// (no limit beyond RFC 2348's).
func (c *mtuCache) blockLimit(ifIndex int) int {
	if ifIndex <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.mtus[ifIndex]
	if !ok || time.Since(e.when) > mtuTTL {
		ifi, err := net.InterfaceByIndex(ifIndex)
		if err != nil {
			return 0
		}
		e = mtuEntry{mtu: ifi.MTU, when: time.Now()}
		c.mtus[ifIndex] = e
	}
	if e.mtu <= ipUDPTFTPOverhead {
		return 0
	}
	return e.mtu - ipUDPTFTPOverhead
}
