package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// validator checks a decoded Config and fills its derived fields.
type validator struct {
	cfg   *Config
	file  string
	lines map[string]int
	errs  Errors
}

// validate checks cfg, fills its derived fields and returns the problems
// found. lines maps key paths to the lines they were written on.
func validate(cfg *Config, file string, lines map[string]int) Errors {
	v := &validator{cfg: cfg, file: file, lines: lines}
	v.server()
	v.dhcp()
	v.profiles()
	v.machines()
	v.groups()
	v.tftp()
	v.dhcpServer()
	v.profileRef("default_profile", cfg.DefaultProfile, false)
	v.http()
	v.cluster()
	v.service()
	v.timeline()
	return v.errs
}

// errorf records a problem at path, on the line of path or, when path was
// not written, of its closest written parent.
func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// line returns the line of path or of its closest written parent.
func (v *validator) line(path string) int {
	for {
		if l, ok := v.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// where describes path with its line, for messages that point elsewhere.
func (v *validator) where(path string) string {
	return fmt.Sprintf("%s (line %d)", path, v.line(path))
}

// server checks the server section.
func (v *validator) server() {
	s := &v.cfg.Server
	v.serverAddresses(s)
	v.port("server.http_port", s.HTTPPort)
	v.port("server.tftp_port", s.TFTPPort)
	if s.DataDir == "" {
		v.errorf("server.data_dir", "must not be empty (default %s)", DefaultDataDir)
	}
}

// port checks a TCP or UDP port number.
func (v *validator) port(p string, n int) {
	if n < 1 || n > 65535 {
		v.errorf(p, "%d is not a port number (1-65535)", n)
	}
}

// ipv4 parses s as an IPv4 address, recording an error at p if it is not
// one; it returns the zero Addr then.
func (v *validator) ipv4(p, s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		v.errorf(p, "%q is not an IPv4 address", s)
		return netip.Addr{}
	}
	return a
}

// dhcp checks the dhcp section.
func (v *validator) dhcp() {
	d := &v.cfg.DHCP
	switch d.Mode {
	case ModeFull, ModeProxy, ModeOff:
	default:
		v.errorf("dhcp.mode", "%q is not a DHCP mode (use full, proxy or off)", d.Mode)
	}
	for i := range d.Subnets {
		v.subnet(indexPath("dhcp.subnets", i), &d.Subnets[i])
	}
	v.subnetOverlaps()
}

// subnet checks one subnet and fills its derived fields.
func (v *validator) subnet(p string, s *Subnet) {
	if isIPv6Network(s.CIDR) {
		v.subnet6(p, s)
		return
	}
	v.prefix(keyPath(p, "cidr"), s)
	if s.Range != "" {
		v.addrRange(keyPath(p, "range"), s)
	}
	if s.Router != "" {
		s.RouterAddr = v.ipv4(keyPath(p, "router"), s.Router)
	}
	for i, dns := range s.DNS {
		if a := v.ipv4(indexPath(keyPath(p, "dns"), i), dns); a.IsValid() {
			s.DNSAddrs = append(s.DNSAddrs, a)
		}
	}
	if s.LeaseTime <= 0 {
		v.errorf(keyPath(p, "lease_time"), "must be longer than 0s, got %s", s.LeaseTime)
	}
}

// prefix checks and fills a subnet's CIDR.
func (v *validator) prefix(p string, s *Subnet) {
	if s.CIDR == "" {
		v.errorf(p, "required, such as 192.0.2.0/24")
		return
	}
	pfx, err := netip.ParsePrefix(s.CIDR)
	if err != nil || !pfx.Addr().Is4() {
		v.errorf(p, "%q is not an IPv4 network such as 192.0.2.0/24", s.CIDR)
		return
	}
	s.Prefix = pfx.Masked()
}

// addrRange checks and fills a subnet's "first-last" address range.
func (v *validator) addrRange(p string, s *Subnet) {
	first, last, ok := strings.Cut(s.Range, "-")
	if !ok {
		v.errorf(p, "%q is not a range such as 192.0.2.100-192.0.2.200", s.Range)
		return
	}
	start := v.ipv4(p, strings.TrimSpace(first))
	end := v.ipv4(p, strings.TrimSpace(last))
	if !start.IsValid() || !end.IsValid() {
		return
	}
	if end.Less(start) {
		v.errorf(p, "range starts at %s, after its end %s", start, end)
		return
	}
	if s.Prefix.IsValid() && !(s.Prefix.Contains(start) && s.Prefix.Contains(end)) {
		v.errorf(p, "range %s-%s is not inside %s", start, end, s.Prefix)
		return
	}
	s.RangeStart, s.RangeEnd = start, end
}

// subnetOverlaps reports subnets that share addresses with an earlier one.
func (v *validator) subnetOverlaps() {
	subnets := v.cfg.DHCP.Subnets
	for i := range subnets {
		for j := 0; j < i; j++ {
			a, b := subnets[i].Prefix, subnets[j].Prefix
			if a.IsValid() && b.IsValid() && a.Overlaps(b) {
				v.errorf(keyPath(indexPath("dhcp.subnets", i), "cidr"), "%s overlaps %s of %s", a, b, v.where(indexPath("dhcp.subnets", j)))
				break
			}
		}
	}
}

// profileName is what a profile's name may contain.
var profileName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// profiles checks every profile and fills its Name.
func (v *validator) profiles() {
	for _, name := range v.profileNames() {
		p := v.cfg.Profiles[name]
		p.Name = name
		v.profile(keyPath("profiles", name), &p)
		v.cfg.Profiles[name] = p
	}
}

// profileNames returns the profile names sorted, for a stable error order.
func (v *validator) profileNames() []string {
	names := make([]string, 0, len(v.cfg.Profiles))
	for name := range v.cfg.Profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// profile checks one profile.
func (v *validator) profile(p string, pr *Profile) {
	if !profileName.MatchString(pr.Name) {
		v.errorf(p, "%q is not a valid profile name (use letters, digits, '_', '.' and '-')", pr.Name)
	}
	if !v.oneBootMethod(p, pr) {
		return
	}
	v.bootChoices(p, pr)
	if pr.Kernel != "" {
		v.assetRef(keyPath(p, "kernel"), pr.Kernel)
		for i, f := range pr.Initrd {
			v.assetRef(indexPath(keyPath(p, "initrd"), i), f)
		}
		return
	}
	if len(pr.Initrd) > 0 {
		v.errorf(keyPath(p, "initrd"), "only allowed with kernel")
	}
	if pr.Cmdline != "" {
		v.errorf(keyPath(p, "cmdline"), "only allowed with kernel")
	}
	if pr.Menu != nil {
		v.menu(keyPath(p, "menu"), pr.Name, pr.Menu)
	}
}

// oneBootMethod reports whether exactly one of kernel, local, shell, menu,
// chain and script is set, recording which are missing or conflicting if not.
func (v *validator) oneBootMethod(p string, pr *Profile) bool {
	var set []string
	if pr.Kernel != "" {
		set = append(set, "kernel")
	}
	if pr.Local {
		set = append(set, "local")
	}
	if pr.Shell {
		set = append(set, "shell")
	}
	if pr.Menu != nil {
		set = append(set, "menu")
	}
	if pr.Chain != "" {
		set = append(set, "chain")
	}
	if pr.Script != "" {
		set = append(set, "script")
	}
	switch len(set) {
	case 1:
		return true
	case 0:
		v.errorf(p, "needs one of kernel, local: true, shell: true, menu, chain or script; none is set")
	default:
		v.errorf(p, "%s are all set; use exactly one of kernel, local, shell, menu, chain or script", strings.Join(set, ", "))
	}
	return false
}

// assetRef checks a kernel or initrd: an http(s) URL, or a relative path
// inside the assets folder.
func (v *validator) assetRef(p, ref string) {
	if strings.Contains(ref, "://") {
		u, err := url.Parse(ref)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf(p, "%q is not an http:// or https:// URL", ref)
		}
		return
	}
	switch {
	case ref == "":
		v.errorf(p, "must not be empty")
	case path.IsAbs(ref) || strings.HasPrefix(ref, `\`):
		v.errorf(p, "%q is an absolute path; give a path relative to server.assets or an http(s) URL", ref)
	case hasDotDot(ref):
		v.errorf(p, "%q contains \"..\"; paths must stay inside server.assets", ref)
	case v.cfg.Server.Assets == "":
		v.errorf(p, "%q is a file in the assets folder, but server.assets is not set", ref)
	}
}

// hasDotDot reports whether a slash- or backslash-separated path has a ".."
// element.
func hasDotDot(p string) bool {
	for _, elem := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if elem == ".." {
			return true
		}
	}
	return false
}

// menu checks a menu profile's items and default.
func (v *validator) menu(p, self string, m *Menu) {
	items := keyPath(p, "items")
	if len(m.Items) == 0 {
		v.errorf(items, "a menu needs at least one item")
	}
	for i, item := range m.Items {
		ip := indexPath(items, i)
		if item == self {
			v.errorf(ip, "a menu cannot list itself")
		} else {
			v.profileRef(ip, item, true)
		}
	}
	if m.Default != "" && !contains(m.Items, m.Default) {
		v.errorf(keyPath(p, "default"), "%q is not one of the menu's items", m.Default)
	}
	if m.Timeout < 0 {
		v.errorf(keyPath(p, "timeout"), "must not be negative, got %s", m.Timeout)
	}
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// profileRef checks that name, written at p, is a profile; an empty name is
// an error only when required.
func (v *validator) profileRef(p, name string, required bool) {
	if name == "" {
		if required {
			v.errorf(p, "required: name a profile")
		}
		return
	}
	if _, ok := v.cfg.Profiles[name]; !ok {
		v.errorf(p, "profile %q is not defined%s", name, v.knownProfiles())
	}
}

// knownProfiles lists the profile names for messages.
func (v *validator) knownProfiles() string {
	names := v.profileNames()
	if len(names) == 0 {
		return " (there are no profiles)"
	}
	return " (profiles: " + strings.Join(names, ", ") + ")"
}

// machines checks every machine, and that MACs and addresses are unique.
func (v *validator) machines() {
	macs := map[string]string{}
	addrs := map[netip.Addr]string{}
	for i := range v.cfg.Machines {
		p := indexPath("machines", i)
		m := &v.cfg.Machines[i]
		v.machine(p, m)
		if m.HWAddr != nil {
			unique(v, macs, m.HWAddr.String(), p, "mac")
		}
		if m.Addr.IsValid() {
			unique(v, addrs, m.Addr, p, "ipv4")
		}
		if m.Addr6.IsValid() {
			unique(v, addrs, m.Addr6, p, "ipv6")
		}
	}
}

// unique records that the machine at p uses value for key, reporting an
// earlier machine that uses it too.
func unique[K comparable](v *validator, seen map[K]string, value K, p, key string) {
	if first, dup := seen[value]; dup {
		v.errorf(keyPath(p, key), "%v is also the %s of %s", value, key, v.where(first))
		return
	}
	seen[value] = p
}

// uuidPattern is the 8-4-4-4-12 hex form of a UUID.
var uuidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// machine checks one machine and fills its derived fields.
func (v *validator) machine(p string, m *Machine) {
	m.HWAddr = v.mac(keyPath(p, "mac"), m.MAC)
	if m.UUID != "" && !uuidPattern.MatchString(m.UUID) {
		v.errorf(keyPath(p, "uuid"), "%q is not a UUID (8-4-4-4-12 hex digits)", m.UUID)
	}
	if m.IPv4 != "" {
		m.Addr = v.ipv4(keyPath(p, "ipv4"), m.IPv4)
		v.inSubnet(keyPath(p, "ipv4"), m.Addr)
	}
	if m.IPv6 != "" {
		m.Addr6 = v.ipv6(keyPath(p, "ipv6"), m.IPv6)
		v.inSubnet(keyPath(p, "ipv6"), m.Addr6)
	}
	v.profileRef(keyPath(p, "profile"), m.Profile, false)
	v.bootMethod(keyPath(p, "boot_method"), m.BootMethod)
	v.machineLoader(p, m)
	for _, k := range sortedKeys(m.Labels) {
		if reservedKeys[k] {
			v.errorf(keyPath(keyPath(p, "labels"), k), "%q is a reserved selector key and cannot be a label; it comes from the machine itself", k)
		}
	}
}

// mac parses a required 6-byte MAC address; nil if it is missing or bad.
func (v *validator) mac(p, s string) net.HardwareAddr {
	if s == "" {
		v.errorf(p, "required, such as 52:54:00:12:34:56")
		return nil
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		v.errorf(p, "%q is not a MAC address", s)
		return nil
	}
	return hw
}

// inSubnet checks that a fixed address lies in a subnet rackboot serves,
// when it serves given subnets: an IPv4 one when any IPv4 subnet is given
// (without, full mode derives one from the interface), an IPv6 one always,
// since DHCPv6 hands out addresses only on subnets the file names.
func (v *validator) inSubnet(p string, a netip.Addr) {
	d := v.cfg.DHCP
	if !a.IsValid() || d.Mode != ModeFull || (a.Is4() && len(d.Subnets) == 0) {
		return
	}
	family := false
	for _, s := range d.Subnets {
		if !s.Prefix.IsValid() || s.Prefix.Contains(a) {
			return // an invalid subnet is reported already
		}
		family = family || s.Prefix.Addr().Is6() == a.Is6()
	}
	switch {
	case family:
		v.errorf(p, "%s is not inside any of dhcp.subnets", a)
	case a.Is6():
		v.errorf(p, "%s is an IPv6 address, but dhcp.subnets has no IPv6 subnet to hand it out on", a)
	default:
		v.errorf(p, "%s is an IPv4 address, but dhcp.subnets has only IPv6 subnets, so full mode serves no DHCPv4", a)
	}
}

// reservedKeys are the selector keys that come from the client itself.
var reservedKeys = map[string]bool{"mac": true, "uuid": true, "hostname": true, "arch": true}

// groups checks every group.
func (v *validator) groups() {
	names := map[string]string{}
	for i := range v.cfg.Groups {
		p := indexPath("groups", i)
		g := &v.cfg.Groups[i]
		if g.Name == "" {
			v.errorf(keyPath(p, "name"), "required")
		} else {
			unique(v, names, g.Name, p, "name")
		}
		v.selector(keyPath(p, "selector"), g.Selector)
		v.profileRef(keyPath(p, "profile"), g.Profile, true)
		v.groupSecureBoot(p, g)
	}
}

// selector checks a group's selector: not empty, and values of reserved
// keys written the way clients report them.
func (v *validator) selector(p string, sel map[string]string) {
	if len(sel) == 0 {
		v.errorf(p, "required: a group with an empty selector would match every machine; use default_profile instead")
		return
	}
	for _, k := range sortedKeys(sel) {
		if msg := selectorValueProblem(k, sel[k]); msg != "" {
			v.errorf(keyPath(p, k), "%s", msg)
		}
	}
}

// selectorValueProblem says what is wrong with a selector's value for key,
// or "" if nothing is.
func selectorValueProblem(key, value string) string {
	switch {
	case value == "":
		return "must not be empty"
	case key == "mac":
		hw, err := net.ParseMAC(value)
		if err != nil || len(hw) != 6 || !strings.EqualFold(hw.String(), value) {
			return fmt.Sprintf("%q is not a MAC address written like 52:54:00:12:34:56", value)
		}
	case key == "uuid" && !uuidPattern.MatchString(value):
		return fmt.Sprintf("%q is not a UUID (8-4-4-4-12 hex digits)", value)
	case key == "arch":
		if n, err := strconv.ParseUint(value, 10, 16); err != nil || strconv.FormatUint(n, 10) != value {
			return fmt.Sprintf("%q is not a client architecture number (0-65535, such as 7 for x86-64 UEFI)", value)
		}
	}
	return ""
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
