package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/config"
)

// newSettings returns the viper instance every subcommand reads its flags
// through: a flag on the command line wins, then RACKBOOT_<FLAG> (dashes
// as underscores: --data-dir is RACKBOOT_DATA_DIR), then the flag's
// default.
func newSettings() *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix("RACKBOOT")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	return v
}

// bindFlags binds the running command's flags to v. It runs before the
// command (root's PersistentPreRunE), so that two subcommands with a flag
// of the same name never read each other's.
func bindFlags(cmd *cobra.Command, v *viper.Viper) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if e := v.BindPFlag(f.Name, f); e != nil && err == nil {
			err = e
		}
	})
	return err
}

// overrides are the serve flags that change the inventory's server and
// dhcp settings. They are applied in one place, at start and at every
// reload, so a reload never undoes them.
type overrides struct {
	iface string // --interface: server.interface
	proxy bool   // --proxy: dhcp.mode proxy
	store string // --store: server.store
}

func overridesFrom(v *viper.Viper) overrides {
	return overrides{iface: v.GetString("interface"), proxy: v.GetBool("proxy"), store: v.GetString("store")}
}

// apply writes the overrides into cfg.
func (o overrides) apply(cfg *config.Config) {
	if o.iface != "" {
		cfg.Server.Interface = o.iface
	}
	if o.proxy {
		cfg.DHCP.Mode = config.ModeProxy
	}
	if o.store != "" {
		cfg.Server.Store = o.store
	}
}
