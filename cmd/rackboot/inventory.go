package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/rackboot/rackboot/cluster"
	"github.com/rackboot/rackboot/leases/etcdstore"
)

// newInventoryCommand edits the inventory entries in etcd that every
// member adds to its own file (docs/cluster.md#inventory-entries-in-etcd).
func newInventoryCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory list|put|delete --store etcd://…",
		Short: "List, add or remove inventory entries (machines, groups, profiles) shared through etcd",
	}
	put := &cobra.Command{
		Use:   "put KIND NAME < ENTRY.yaml",
		Short: "Add or replace one entry (KIND: machines, groups or profiles; YAML as in the inventory file)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if err := cluster.CheckEntry(args[0], args[1], b); err != nil {
				return err
			}
			return withInventory(v, func(ctx context.Context, cli *clientv3.Client, prefix string) error {
				_, err := cli.Put(ctx, cluster.InventoryKey(prefix, args[0], canonical(args[0], args[1])), string(b))
				return err
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete KIND NAME",
		Short: "Remove one entry",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withInventory(v, func(ctx context.Context, cli *clientv3.Client, prefix string) error {
				resp, err := cli.Delete(ctx, cluster.InventoryKey(prefix, args[0], canonical(args[0], args[1])))
				if err == nil && resp.Deleted == 0 {
					err = fmt.Errorf("no %s entry %q in etcd", args[0], args[1])
				}
				return err
			})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print every entry as KIND/NAME, then its YAML",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withInventory(v, func(ctx context.Context, cli *clientv3.Client, prefix string) error {
				resp, err := cli.Get(ctx, prefix+"/inventory/", clientv3.WithPrefix())
				if err != nil {
					return err
				}
				for _, kv := range resp.Kvs {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\n%s\n", strings.TrimPrefix(string(kv.Key), prefix+"/inventory/"), strings.TrimRight(string(kv.Value), "\n"))
				}
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{put, del, list} {
		addStoreFlags(c.Flags())
		cmd.AddCommand(c)
	}
	return cmd
}

// canonical writes a machine's name as net.HardwareAddr prints it.
func canonical(kind, name string) string {
	if kind == cluster.KindMachines {
		return strings.ToLower(strings.ReplaceAll(name, "-", ":"))
	}
	return name
}

func withInventory(v *viper.Viper, f func(context.Context, *clientv3.Client, string) error) error {
	sf := storeFlagsFrom(v)
	if sf.store == "" {
		return fmt.Errorf("--store etcd://… is required")
	}
	t, tc, err := sf.etcd()
	if err != nil {
		return err
	}
	cli, err := etcdstore.Client(t, tc, 0)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return f(ctx, cli, t.Prefix)
}
