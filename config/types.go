// Package config reads and validates the rackboot inventory file: one YAML
// document that says where the servers listen, how DHCP behaves, which boot
// profiles exist and which machines and groups get which profile.
package config

import (
	"net"
	"net/netip"
	"time"
)

// Config is one validated inventory. Values are filled by Parse; the typed
// fields tagged `yaml:"-"` are derived during validation and are ready to use.
// A Config is never modified after Parse returns.
type Config struct {
	Server         Server             `yaml:"server"`
	DHCP           DHCP               `yaml:"dhcp"`
	Profiles       map[string]Profile `yaml:"profiles"`
	Machines       []Machine          `yaml:"machines"`
	Groups         []Group            `yaml:"groups"`
	DefaultProfile string             `yaml:"default_profile"`
	// Cluster: several instances sharing an etcd store (docs/cluster.md).
	Cluster Cluster `yaml:"cluster"`
	// Timeline: the per-machine boot timeline (docs/observe.md).
	Timeline Timeline `yaml:"timeline"`

	// File is the name the inventory was read from, for messages.
	File string `yaml:"-"`
}

// Server says where rackboot listens and what it serves.
type Server struct {
	Interface string `yaml:"interface"`
	Address   string `yaml:"address"`
	HTTPPort  int    `yaml:"http_port"`
	TFTPPort  int    `yaml:"tftp_port"`
	Assets    string `yaml:"assets"`
	DataDir   string `yaml:"data_dir"`
	// TFTPMaxTransfers bounds the TFTP transfers in progress; 0 takes
	// DefaultTFTPMaxTransfers (config/validate_tftp.go, docs/tftp.md).
	TFTPMaxTransfers int `yaml:"tftp_max_transfers"`
	// SigningKey is an armored OpenPGP private key; when set, every script
	// and config endpoint also answers PATH.sig and PATH.asc (docs/http.md).
	SigningKey string `yaml:"signing_key"`
	// Store is where leases live: "" for the write-ahead log in DataDir,
	// or etcd://host:2379[,host…][/prefix] (docs/cluster.md); StoreTLS
	// holds the client certificate for it.
	Store    string    `yaml:"store"`
	StoreTLS *StoreTLS `yaml:"store_tls"`
	// Service settings (docs/operations.md): how long transfers in flight
	// may take to finish on SIGTERM, and the admin API's tokens.
	ShutdownGrace  Duration `yaml:"shutdown_grace"`
	AdminTokenFile string   `yaml:"admin_token_file"`
	APIReadToken   bool     `yaml:"api_read_token"`
	// DiscoverHold keeps PXE clients that no rule gives a profile in the
	// no-profile iPXE script's retry loop, so that adopting them boots
	// them on the next retry (docs/operations.md#discovery).
	DiscoverHold bool `yaml:"discover_hold"`

	// Address6 is the IPv6 address of a dual-stack server whose Address
	// is IPv4 (docs/ipv6.md).
	Address6 string `yaml:"address6"`

	// Addr is Address parsed when it is IPv4; invalid (zero) when the
	// address is to be taken from the interface. Addr6 is the IPv6 one
	// (Address when it is IPv6, else Address6).
	Addr  netip.Addr `yaml:"-"`
	Addr6 netip.Addr `yaml:"-"`
}

// Profile loaders.
const (
	LoaderIPXE     = "ipxe"
	LoaderPXELINUX = "pxelinux"
	// LoaderGRUB: UEFI clients load the signed chain (Shim, then GRUB)
	// and a generated grub.cfg (docs/secure-boot.md).
	LoaderGRUB = "grub"
	// LoaderAuto: iPXE, but the signed GRUB chain for UEFI clients that
	// secure_boot marks or that refused iPXE.
	LoaderAuto = "auto"
)

// Boot methods.
const (
	BootMethodPXE  = "pxe"
	BootMethodHTTP = "http"
)

// DHCP modes.
const (
	ModeFull  = "full"
	ModeProxy = "proxy"
	ModeOff   = "off"
)

// DHCP configures the DHCP responder.
type DHCP struct {
	Mode    string   `yaml:"mode"`
	Subnets []Subnet `yaml:"subnets"`
	// Full-mode server settings (docs/dhcp.md); zero values take defaults
	// (config/validate_dhcp.go).
	ConflictDetection     *bool    `yaml:"conflict_detection"`
	ProbeTimeout          Duration `yaml:"probe_timeout"`
	DeclineHold           Duration `yaml:"decline_hold"`
	OfferHold             Duration `yaml:"offer_hold"`
	MaxNewLeasesPerSecond int      `yaml:"max_new_leases_per_second"`
	Workers               int      `yaml:"workers"`
}

// Subnet is one IPv4 or IPv6 network rackboot hands addresses out on
// (IPv6 ones through DHCPv6, docs/ipv6.md).
type Subnet struct {
	CIDR      string   `yaml:"cidr"`
	Range     string   `yaml:"range"`
	Router    string   `yaml:"router"`
	DNS       []string `yaml:"dns"`
	Domain    string   `yaml:"domain"`
	LeaseTime Duration `yaml:"lease_time"`
	// Ranges are more "first-last" ranges beside Range; NTP, MTU and
	// Routes (option 121, RFC 3442) are more options (docs/dhcp.md).
	Ranges []string `yaml:"ranges"`
	NTP    []string `yaml:"ntp"`
	MTU    int      `yaml:"mtu"`
	Routes []Route  `yaml:"routes"`

	Prefix     netip.Prefix `yaml:"-"`
	RangeStart netip.Addr   `yaml:"-"`
	RangeEnd   netip.Addr   `yaml:"-"`
	RouterAddr netip.Addr   `yaml:"-"`
	DNSAddrs   []netip.Addr `yaml:"-"`
	// Pools is Range and Ranges parsed.
	Pools    []AddrRange  `yaml:"-"`
	NTPAddrs []netip.Addr `yaml:"-"`
}

// IPv6 reports whether the subnet is an IPv6 network (served by DHCPv6).
func (s Subnet) IPv6() bool { return s.Prefix.Addr().Is6() }

// AddrRange is an inclusive range of addresses of one family.
type AddrRange struct{ First, Last netip.Addr }

// Route is one classless static route (RFC 3442).
type Route struct {
	To  string `yaml:"to"`
	Via string `yaml:"via"`

	Dest    netip.Prefix `yaml:"-"`
	Gateway netip.Addr   `yaml:"-"`
}

// MachineDHCP overrides a subnet's options for one machine; empty fields
// keep the subnet's.
type MachineDHCP struct {
	Router    string   `yaml:"router"`
	DNS       []string `yaml:"dns"`
	Domain    string   `yaml:"domain"`
	NTP       []string `yaml:"ntp"`
	LeaseTime Duration `yaml:"lease_time"`
	MTU       int      `yaml:"mtu"`

	RouterAddr netip.Addr   `yaml:"-"`
	DNSAddrs   []netip.Addr `yaml:"-"`
	NTPAddrs   []netip.Addr `yaml:"-"`
}

// Profile says how a machine boots. Exactly one of Kernel, Local, Shell,
// Menu, Chain and Script is set.
type Profile struct {
	// Kernel is a file under the assets folder or an http(s) URL.
	Kernel string `yaml:"kernel"`
	// Initrd lists files under the assets folder or http(s) URLs.
	Initrd  []string `yaml:"initrd"`
	Cmdline string   `yaml:"cmdline"`
	// Local boots from the machine's local disk (iPXE "exit").
	Local bool `yaml:"local"`
	// Shell drops to the iPXE shell.
	Shell bool `yaml:"shell"`
	// Menu shows an iPXE menu of other profiles.
	Menu *Menu `yaml:"menu"`
	// Chain chains to the iPXE script at this http(s) or tftp URL.
	Chain string `yaml:"chain"`
	// Script is an iPXE script template (text/template) under the assets
	// folder, rendered per request.
	Script string `yaml:"script"`
	// Ignition, CloudConfig and Generic are templates under the assets
	// folder served at /ignition, /cloud-config and /generic.
	Ignition    string `yaml:"ignition"`
	CloudConfig string `yaml:"cloud_config"`
	Generic     string `yaml:"generic"`
	// Loader is the first boot program for PXE clients: "ipxe" (default),
	// "pxelinux" (BIOS clients load pxelinux.0 and a generated
	// pxelinux.cfg), "grub" (UEFI clients load Shim, GRUB and a generated
	// grub.cfg) or "auto" (iPXE, or the GRUB chain for Secure Boot).
	Loader string `yaml:"loader"`
	// BootMethod chooses, for firmware that offers both, between "pxe"
	// (TFTP) and "http" (UEFI HTTP Boot); "" takes whichever the firmware
	// asks with.
	BootMethod string `yaml:"boot_method"`

	// Name is the profile's key in the profiles map.
	Name string `yaml:"-"`
}

// Menu is an iPXE menu whose items are other profiles.
type Menu struct {
	Title   string   `yaml:"title"`
	Items   []string `yaml:"items"`
	Default string   `yaml:"default"`
	Timeout Duration `yaml:"timeout"`
}

// Machine is one known machine, found by its MAC address.
type Machine struct {
	MAC      string `yaml:"mac"`
	UUID     string `yaml:"uuid"`
	Hostname string `yaml:"hostname"`
	IPv4     string `yaml:"ipv4"`
	// IPv6 is the machine's fixed DHCPv6 address (IA_NA).
	IPv6    string            `yaml:"ipv6"`
	Profile string            `yaml:"profile"`
	Labels  map[string]string `yaml:"labels"`
	// BootMethod overrides the profile's boot_method for this machine.
	BootMethod string `yaml:"boot_method"`
	// Loader overrides the profile's loader for this machine.
	Loader string `yaml:"loader"`
	// SecureBoot says the machine's firmware runs only signed code: with
	// loader auto (or none) its UEFI firmware gets the signed GRUB chain.
	SecureBoot bool `yaml:"secure_boot"`
	// DHCP overrides its subnet's DHCP options (full mode).
	DHCP *MachineDHCP `yaml:"dhcp"`

	HWAddr net.HardwareAddr `yaml:"-"`
	Addr   netip.Addr       `yaml:"-"`
	Addr6  netip.Addr       `yaml:"-"`
}

// Group gives a profile to every machine whose facts match its selector.
type Group struct {
	Name     string            `yaml:"name"`
	Selector map[string]string `yaml:"selector"`
	Profile  string            `yaml:"profile"`
	// SecureBoot marks every machine the selector matches as Secure Boot
	// firmware (see Machine.SecureBoot).
	SecureBoot bool `yaml:"secure_boot"`
}

// Duration is a time.Duration written as "1h", "90s" or a number of seconds.
type Duration time.Duration
