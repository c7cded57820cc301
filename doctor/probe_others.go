//go:build !linux

package doctor

import (
	"errors"
	"net"
	"time"
)

// Probe needs Linux (SO_BINDTODEVICE).
func Probe(*net.Interface, time.Duration) ([]Answer, error) {
	return nil, errors.New("the DHCP probe needs Linux")
}
