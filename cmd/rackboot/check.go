package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rackboot/rackboot/config"
)

// newCheckCommand validates an inventory file without serving anything.
func newCheckCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate an inventory file; print every error with its line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(file)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return fmt.Errorf("%s is not valid", file)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d profiles, %d machines, %d groups)\n",
				file, len(cfg.Profiles), len(cfg.Machines), len(cfg.Groups))
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "inventory file to check (required)")
	cmd.MarkFlagRequired("config")
	return cmd
}
