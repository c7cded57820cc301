package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/leases"
)

// newLeasesCommand lists the DHCP leases in a data directory (or, with
// --store, in etcd). It reads the lease log without locking it, so it
// works whether or not a server runs; export and import are its
// subcommands (leases_store.go).
func newLeasesCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "leases [--data-dir DIR | --store etcd://…] [--json]",
		Short: "List the DHCP leases (MAC, IP, state, expiry, hostname), one per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, err := storeFlagsFrom(v).read()
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return writeLeasesJSON(cmd.OutOrStdout(), ls)
			}
			return writeLeasesTable(cmd.OutOrStdout(), ls)
		},
	}
	addStoreFlags(cmd.Flags())
	cmd.Flags().Bool("json", false, "one JSON object per lease, one per line")
	cmd.AddCommand(newLeasesExportCommand(v), newLeasesImportCommand(v))
	return cmd
}

// leaseJSON is one line of `rackboot leases --json`.
type leaseJSON struct {
	MAC      string    `json:"mac"`
	IP       string    `json:"ip"`
	State    string    `json:"state"`
	Expiry   time.Time `json:"expiry"`
	Hostname string    `json:"hostname,omitempty"`
	ClientID string    `json:"client_id,omitempty"`
}

func writeLeasesJSON(w io.Writer, ls []leases.Lease) error {
	enc := json.NewEncoder(w)
	for _, l := range ls {
		j := leaseJSON{MAC: l.MAC.String(), IP: l.IP.String(), State: l.State.String(), Expiry: l.Expiry.UTC(), Hostname: l.Hostname}
		if len(l.ClientID) > 0 {
			j.ClientID = fmt.Sprintf("%x", l.ClientID)
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

func writeLeasesTable(w io.Writer, ls []leases.Lease) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "MAC\tIP\tSTATE\tEXPIRY\tHOSTNAME")
	for _, l := range ls {
		mac := l.MAC.String()
		if mac == "" {
			mac = "-"
		}
		host := l.Hostname
		if host == "" {
			host = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mac, l.IP, l.State, l.Expiry.UTC().Format(time.RFC3339), host)
	}
	return tw.Flush()
}
