package config

import (
	"os"
	"time"
)

// DefaultShutdownGrace is server.shutdown_grace when not set.
const DefaultShutdownGrace = Duration(10 * time.Second)

// maxShutdownGrace bounds server.shutdown_grace: systemd's default stop
// timeout is 90 s, after which it kills the process anyway.
const maxShutdownGrace = Duration(10 * time.Minute)

// service checks the settings of rackboot as a service: the shutdown
// grace and the admin API's token file.
func (v *validator) service() {
	s := &v.cfg.Server
	switch {
	case s.ShutdownGrace == 0:
		s.ShutdownGrace = DefaultShutdownGrace
	case s.ShutdownGrace < 0 || s.ShutdownGrace > maxShutdownGrace:
		v.errorf("server.shutdown_grace", "%s is out of range (1s-%s; default %s)", s.ShutdownGrace, maxShutdownGrace, DefaultShutdownGrace)
	}
	if s.AdminTokenFile != "" {
		if fi, err := os.Stat(s.AdminTokenFile); err != nil {
			v.errorf("server.admin_token_file", "%v", err)
		} else if !fi.Mode().IsRegular() {
			v.errorf("server.admin_token_file", "%s is not a regular file", s.AdminTokenFile)
		}
	}
}
