package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/admin"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// The admin API's entries in the reloader: every inventory put in force
// is the file with the entries merged in (config.ParseWithEntries). The
// file wins: an entry whose MAC or profile name the file defines is left
// out, and so is an entry that a file edit made invalid (its profile
// removed, say), each with a warning; it stays stored and comes back when
// the file allows it again.

var _ admin.Inventory = (*reloader)(nil)

// FileNames returns the MACs and profile names the file in force defines.
func (r *reloader) FileNames() (macs, profiles map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fileMACs, r.fileProfiles
}

// Apply puts the file with e merged in force, after persist, when it is
// valid; otherwise it returns the problems (config.Errors) and changes
// nothing.
func (r *reloader) Apply(e admin.Entries, persist func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := r.parseWith(e, nil)
	if err != nil {
		return err
	}
	if err := persist(); err != nil {
		return err
	}
	r.inv.Store(r.builder()(cfg))
	return nil
}

// withEntries returns file (parsed from r.data) with the stored entries
// merged in, leaving out the entries that do not fit.
func (r *reloader) withEntries(file *config.Config) *config.Config {
	if r.store == nil {
		return file
	}
	e := r.store.Entries()
	if len(e.Machines) == 0 && len(e.Profiles) == 0 {
		return file
	}
	for _, shadow := range shadowed(e, r.fileMACs, r.fileProfiles) {
		r.log.WithField("entry", shadow).Warn("admin API: the inventory file now defines this entry; the file's wins")
	}
	drop := map[string]bool{}
	for range 3 {
		cfg, err := r.parseWith(e, drop)
		if err == nil {
			return cfg
		}
		var es config.Errors
		if !errors.As(err, &es) {
			break
		}
		_, macs := e.Doc(r.fileMACs, r.fileProfiles)
		for _, ce := range es {
			if key := entryOf(ce, macs); key != "" {
				drop[key] = true
				r.log.WithFields(logrus.Fields{"entry": key, "error": ce.Error()}).Warn("admin API: entry left out, it does not fit the inventory file")
			}
		}
	}
	r.log.Error("admin API: the entries do not fit the inventory file; serving the file alone")
	return file
}

// parseWith parses r.data with e merged in, less the entries in drop
// ("machine MAC", "profile NAME").
func (r *reloader) parseWith(e admin.Entries, drop map[string]bool) (*config.Config, error) {
	skipMACs, skipProfiles := copySet(r.fileMACs), copySet(r.fileProfiles)
	for k := range drop {
		if mac, ok := strings.CutPrefix(k, "machine "); ok {
			skipMACs[mac] = true
		} else if name, ok := strings.CutPrefix(k, "profile "); ok {
			skipProfiles[name] = true
		}
	}
	doc, _ := e.Doc(skipMACs, skipProfiles)
	cfg, err := config.ParseWithEntries(r.first.File, r.data, admin.EntriesName, doc)
	if err != nil {
		return nil, err
	}
	r.ov.apply(cfg)
	return cfg, nil
}

// entryOf names the entry an error in the entries document is about.
func entryOf(e *config.Error, macs []string) string {
	if e.File != admin.EntriesName {
		return ""
	}
	if rest, ok := strings.CutPrefix(e.Path, "machines["); ok {
		i, _, _ := strings.Cut(rest, "]")
		if n, err := strconv.Atoi(i); err == nil && n < len(macs) {
			return "machine " + macs[n]
		}
	}
	if rest, ok := strings.CutPrefix(e.Path, "profiles."); ok {
		name, _, _ := strings.Cut(rest, ".")
		return "profile " + name
	}
	return ""
}

func (r *reloader) builder() func(*config.Config) *boot.Inventory {
	if r.build != nil {
		return r.build
	}
	return boot.NewInventory
}

// fileNames lists the MACs and profile names cfg defines.
func fileNames(cfg *config.Config) (macs, profiles map[string]bool) {
	macs, profiles = map[string]bool{}, map[string]bool{}
	for _, m := range cfg.Machines {
		if m.HWAddr != nil {
			macs[m.HWAddr.String()] = true
		}
	}
	for name := range cfg.Profiles {
		profiles[name] = true
	}
	return macs, profiles
}

// shadowed names the stored entries the file defines too.
func shadowed(e admin.Entries, macs, profiles map[string]bool) []string {
	var out []string
	for mac := range e.Machines {
		if macs[mac] {
			out = append(out, "machine "+mac)
		}
	}
	for name := range e.Profiles {
		if profiles[name] {
			out = append(out, "profile "+name)
		}
	}
	return out
}

func copySet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// adminAPI opens the entries in server.data_dir, merges them into the
// inventory, registers the write routes and puts the token check in
// front of /api/.
func (d *daemon) adminAPI() error {
	store, err := admin.Open(d.cfg.Server.DataDir)
	if err != nil {
		return err
	}
	token, err := admin.LoadToken(d.cfg.Server.AdminTokenFile)
	if err != nil {
		return err
	}
	d.reload.store = store
	d.inv.Store(d.reload.builder()(d.reload.withEntries(d.cfg)))
	admin.New(store, d.reload, d.log).Register(d.api)
	// Booted machines report themselves (issue 11's /api/v1/report):
	// they hold no admin token.
	auth := admin.NewAuth(token, d.cfg.Server.APIReadToken, d.log, "/api/v1/report")
	if !auth.Enabled() {
		d.log.Info("admin API off: set server.admin_token_file or " + admin.TokenEnv + " to add machines and profiles over HTTP")
	}
	d.apiAuth = auth.Wrap(d.api)
	return nil
}
