package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/doctor"
)

// newDoctorCommand looks at the segment on an interface and recommends a
// DHCP mode (docs/operations.md#rackboot-doctor).
func newDoctorCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor --interface IF [--config FILE] [--timeout 4s]",
		Short: "Probe the network on an interface and recommend full, proxy or off mode",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name := v.GetString("interface")
			if name == "" {
				return errors.New("doctor: name the interface that faces the machines with --interface")
			}
			ifi, err := net.InterfaceByName(name)
			if err != nil {
				return fmt.Errorf("doctor: interface %q: %w", name, err)
			}
			httpPort, tftpPort := config.DefaultHTTPPort, config.DefaultTFTPPort
			if file := v.GetString("config"); file != "" {
				cfg, err := config.Load(file)
				if err != nil {
					return fmt.Errorf("doctor: %w", err)
				}
				httpPort, tftpPort = cfg.Server.HTTPPort, cfg.Server.TFTPPort
			}
			r := doctor.Report{Interface: doctor.InterfaceOf(ifi), Config: v.GetString("config")}
			// The ports first: the probe's own socket (port 68) is none of them.
			r.Ports = doctor.CheckPorts(httpPort, tftpPort)
			done6 := probe6(ifi, v.GetDuration("timeout"), &r)
			if r.Answers, err = doctor.Probe(ifi, v.GetDuration("timeout")); err != nil {
				r.ProbeErr = err.Error()
			}
			<-done6
			fmt.Fprint(cmd.OutOrStdout(), doctor.Format(r, doctor.Recommend(r)))
			return nil
		},
	}
	f := cmd.Flags()
	f.String("interface", "", "interface that faces the machines (required)")
	f.String("config", "", "inventory whose http_port and tftp_port to check (default 8080 and 69)")
	f.Duration("timeout", 4*time.Second, "how long to wait for DHCP servers to answer")
	return cmd
}

// probe6 sends the DHCPv6 Solicit beside the DHCPv4 probe (same wait) and
// fills r's IPv6 answers; the channel closes when it is done.
func probe6(ifi *net.Interface, wait time.Duration, r *doctor.Report) <-chan struct{} {
	done := make(chan struct{})
	r.Probed6 = true
	go func() {
		defer close(done)
		var err error
		if r.Answers6, err = doctor.Probe6(ifi, wait); err != nil {
			r.Probe6Err = err.Error()
		}
	}()
	return done
}
