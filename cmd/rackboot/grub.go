package main

import (
	"net/netip"
	"strings"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/grub"
	"github.com/rackboot/rackboot/handoff"
	"github.com/rackboot/rackboot/tftp"
)

// newHandoff follows the DHCP mode's clients; a refusal of iPXE goes into
// the machine's timeline (GET /api/v1/machines/MAC) as an event of the
// mode's server.
func newHandoff(d *daemon) *handoff.Tracker {
	kind := events.KindDHCP
	if d.cfg.DHCP.Mode == config.ModeProxy {
		kind = events.KindProxyDHCP
	}
	return handoff.New(handoff.Options{Log: d.log, Sink: d.sink(), Kind: kind})
}

// addGRUBConfigs generates GRUB's config names over TFTP: under its
// built-in prefix grub/, and under the folder it was loaded from
// (secureboot/), where GRUB looks when it takes that folder as its
// fw_path. Other names there (GRUB's module lists, Shim and GRUB
// themselves) still reach the assets.
func addGRUBConfigs(gen map[string]tftp.GenerateFunc, r *grub.Resolver) {
	for _, dir := range []string{grub.Dir, boot.SecureBootDir} {
		gen[dir+grub.Config] = func(name string, client netip.Addr) ([]byte, error) {
			res, err := r.Resolve(strings.TrimPrefix(name, dir), client)
			return res.Body, err
		}
	}
}
