package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/config"
)

// newCheckCommand validates an inventory file without serving anything.
func newCheckCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate an inventory file; print every error with its line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			file := v.GetString("config")
			if file == "" {
				return fmt.Errorf("check needs --config FILE (or RACKBOOT_CONFIG)")
			}
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
	cmd.Flags().String("config", "", "inventory file to check (required)")
	return cmd
}
