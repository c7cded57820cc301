package main

import (
	"net/netip"
	"strings"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/grub"
	"github.com/rackboot/rackboot/tftp"
)

// refusals is what tells the DHCP mode's server which firmware refused
// iPXE, for loader auto: the timeline, which sees every machine's DHCP,
// TFTP and HTTP events. With timeline.enabled: false there is none, and
// loader auto gives the signed chain to secure_boot machines only.
func (d *daemon) refusals() dhcpwire.Refusals {
	if d.timeline == nil {
		return nil // not a nil *timeline.Store in a non-nil interface
	}
	return d.timeline
}

// warnBlindAuto says at start that loader auto cannot see refusals of
// iPXE when the timeline is off and the inventory uses loader auto.
func (d *daemon) warnBlindAuto() {
	if d.timeline != nil || !usesLoaderAuto(d.cfg) {
		return
	}
	d.log.Warn("timeline.enabled is false: loader auto cannot tell that firmware refused iPXE (the timeline tells it); it gives the signed chain only to machines marked secure_boot: true")
}

// usesLoaderAuto reports whether any profile or machine says loader: auto.
func usesLoaderAuto(cfg *config.Config) bool {
	for _, p := range cfg.Profiles {
		if p.Loader == config.LoaderAuto {
			return true
		}
	}
	for i := range cfg.Machines {
		if cfg.Machines[i].Loader == config.LoaderAuto {
			return true
		}
	}
	return false
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

// withSecureBootImage makes the store serve boot.SecureBootImage, UEFI HTTP
// Boot's way into the signed chain (package grub, Image): Shim and GRUB as
// the store serves them (the assets folder's own copies first), and a
// config that goes on over TFTP from server. Only for an IPv4 server:
// GRUB's net_bootp is DHCPv4.
func withSecureBootImage(s *assets.Store, server netip.Addr) *assets.Store {
	if !server.Is4() {
		return s
	}
	return s.WithGenerated(boot.SecureBootImage, func(s *assets.Store) ([]byte, error) {
		shim, err := s.ReadAll(boot.ShimProgram)
		if err != nil {
			return nil, err
		}
		g, err := s.ReadAll(boot.GRUBProgram)
		if err != nil {
			return nil, err
		}
		return grub.Image(shim, g, server)
	})
}
