package main

import (
	"bufio"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/leases"
	"github.com/rackboot/rackboot/leases/etcdstore"
	"github.com/rackboot/rackboot/leases/storeurl"
)

// storeFlags name a lease store on the command line: --data-dir for the
// write-ahead log, or --store etcd://… with --store-ca/--store-cert/
// --store-key (docs/cluster.md).
type storeFlags struct {
	dataDir, store string
	tls            etcdstore.TLSFiles
}

func addStoreFlags(fs *pflag.FlagSet) {
	fs.String("data-dir", config.DefaultDataDir, "the server's data_dir (the write-ahead log)")
	fs.String("store", "", "etcd://host:2379[,host…][/prefix]: the shared lease store instead of --data-dir")
	fs.String("store-ca", "", "PEM file of the CA that signed the etcd members' certificates")
	fs.String("store-cert", "", "PEM file of this client's certificate for etcd")
	fs.String("store-key", "", "PEM file of that certificate's key")
}

// storeFlagsFrom reads the flags (or RACKBOOT_DATA_DIR, RACKBOOT_STORE, …).
func storeFlagsFrom(v *viper.Viper) storeFlags {
	return storeFlags{dataDir: v.GetString("data-dir"), store: v.GetString("store"),
		tls: etcdstore.TLSFiles{CA: v.GetString("store-ca"), Cert: v.GetString("store-cert"), Key: v.GetString("store-key")}}
}

func (f storeFlags) etcd() (storeurl.Target, *tls.Config, error) {
	t, err := storeurl.Parse(f.store)
	if err != nil {
		return t, nil, fmt.Errorf("--store: %w", err)
	}
	if f.tls == (etcdstore.TLSFiles{}) {
		return t, nil, nil
	}
	tc, err := f.tls.Load()
	return t, tc, err
}

// read lists the leases of the store the flags name, writing nothing.
func (f storeFlags) read() ([]leases.Lease, error) {
	if f.store == "" {
		return leases.Read(f.dataDir)
	}
	t, tc, err := f.etcd()
	if err != nil {
		return nil, err
	}
	return etcdstore.Read(t, tc, 0)
}

// open opens the store for writing: the log takes its lock (no server may
// run on the folder); etcd may be shared with running servers.
func (f storeFlags) open() (committingStore, error) {
	if f.store == "" {
		return openLogs(f.dataDir)
	}
	t, tc, err := f.etcd()
	if err != nil {
		return nil, err
	}
	return etcdstore.Open(etcdstore.Config{Target: t, TLS: tc, Member: "rackboot-leases-import"})
}

type committingStore interface {
	leases.Store
	leases.Committer
}

// newLeasesExportCommand writes every lease as one JSON object a line.
func newLeasesExportCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export [--data-dir DIR | --store etcd://…]",
		Short: "Write every lease as JSON lines (for leases import)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, err := storeFlagsFrom(v).read()
			if err != nil {
				return err
			}
			return writeLeasesJSON(cmd.OutOrStdout(), ls)
		},
	}
	addStoreFlags(cmd.Flags())
	return cmd
}

// newLeasesImportCommand reads JSON lines (leases export, leases --json)
// and records each lease in the store.
func newLeasesImportCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import [--data-dir DIR | --store etcd://…] < FILE",
		Short: "Record the leases of a leases export (JSON lines on standard input) in a store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, err := readLeasesJSON(cmd.InOrStdin(), "standard input")
			if err != nil {
				return err
			}
			st, err := storeFlagsFrom(v).open()
			if err != nil {
				return err
			}
			n, err := importLeases(st, ls)
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "imported %d of %d leases\n", n, len(ls))
			return err
		},
	}
	addStoreFlags(cmd.Flags())
	return cmd
}

// importLeases commits every lease at once (they share transactions or
// syncs) and reports each refusal, such as an address another client holds
// in etcd.
func importLeases(st leases.Committer, ls []leases.Lease) (int, error) {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	wg.Add(len(ls))
	for _, l := range ls {
		st.Commit(l, func(err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s (%s): %w", l.IP, l.MAC, err))
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return len(ls) - len(errs), errors.Join(errs...)
}

// readLeasesJSON parses the lines of `leases --json` / `leases export`;
// errors name the line.
func readLeasesJSON(r io.Reader, name string) ([]leases.Lease, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []leases.Lease
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		l, err := parseLeaseJSON([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

var leaseStates = map[string]leases.State{
	"bound": leases.Bound, "released": leases.Released, "expired": leases.Expired, "declined": leases.Declined,
}

func parseLeaseJSON(b []byte) (leases.Lease, error) {
	var j leaseJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return leases.Lease{}, err
	}
	var l leases.Lease
	var err error
	if l.IP, err = netip.ParseAddr(j.IP); err != nil || l.IP.Is4In6() || l.IP.Zone() != "" {
		return leases.Lease{}, fmt.Errorf("ip %q is not an IPv4 or IPv6 address", j.IP)
	}
	if j.MAC != "" {
		if l.MAC, err = net.ParseMAC(j.MAC); err != nil {
			return leases.Lease{}, fmt.Errorf("mac: %w", err)
		}
	}
	if j.ClientID != "" {
		if l.ClientID, err = hex.DecodeString(j.ClientID); err != nil {
			return leases.Lease{}, fmt.Errorf("client_id %q: not hex", j.ClientID)
		}
	}
	var ok bool
	if l.State, ok = leaseStates[j.State]; !ok {
		return leases.Lease{}, fmt.Errorf("state %q is not bound, released, expired or declined", j.State)
	}
	l.Expiry, l.Hostname = j.Expiry, j.Hostname
	return l, nil
}
