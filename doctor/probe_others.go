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

// Probe6 needs Linux (SO_BINDTODEVICE).
func Probe6(*net.Interface, time.Duration) ([]Answer6, error) {
	return nil, errors.New("the DHCPv6 probe needs Linux")
}
