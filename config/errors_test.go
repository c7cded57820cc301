package config

import (
	"strings"
	"testing"
)

// profilesOK are profiles the error cases can refer to.
const profilesOK = `profiles:
  demo: {local: true}
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // every error, one a line
	}{
		// document
		{"empty", "", `x.yaml:1: the inventory is empty; it must be a mapping with keys such as server, dhcp, profiles and machines`},
		{"only comments", "# nothing\n", `x.yaml:1: the inventory is empty; it must be a mapping with keys such as server, dhcp, profiles and machines`},
		{"not a mapping", "- a\n- b\n", `x.yaml:1: the inventory must be a mapping (key: value), got a list`},
		{"scalar", "hello\n", `x.yaml:1: the inventory must be a mapping (key: value), got "hello"`},
		{"syntax", "server:\n  address: a\n   http_port: 1\n", `x.yaml:3: YAML syntax: mapping values are not allowed in this context`},
		{"two documents", "server: {}\n---\nserver: {}\n", `x.yaml:3: the inventory must be a single YAML document, found a second one`},

		// unknown keys and types
		{"unknown top-level key", "server: {}\nmachine: []\n", `x.yaml:2: machine: unknown key (did you mean "machines"?)`},
		{"unknown key far from any", "zzzzzz: 1\n", `x.yaml:1: zzzzzz: unknown key (known keys: cluster, default_profile, dhcp, groups, machines, profiles, server, timeline)`},
		{"unknown machine key", profilesOK + "machines:\n  - mac: 52:54:00:00:00:01\n  - macc: 52:54:00:00:00:02\n",
			`x.yaml:5: machines[1].macc: unknown key (did you mean "mac"?)`},
		{"unknown profile key", "profiles:\n  demo:\n    kernal: vmlinuz\n",
			`x.yaml:3: profiles.demo.kernal: unknown key (did you mean "kernel"?)`},
		{"unknown menu key", "profiles:\n  a: {local: true}\n  m:\n    menu:\n      itmes: [a]\n",
			`x.yaml:5: profiles.m.menu.itmes: unknown key (did you mean "items"?)`},
		{"unknown subnet key", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/8\n      gateway: 10.0.0.1\n",
			`x.yaml:4: dhcp.subnets[0].gateway: unknown key (known keys: cidr, dns, domain, lease_time, mtu, ntp, range, ranges, router, routes)`},
		{"duplicate key", "server:\n  http_port: 80\n  http_port: 81\n", `x.yaml:3: server.http_port: duplicate key (first set on line 2)`},
		{"string for list", "profiles:\n  demo:\n    kernel: k\n    initrd: initrd.gz\nserver: {assets: a}\n",
			`x.yaml:4: profiles.demo.initrd: expected a list, got "initrd.gz"`},
		{"list for string", "default_profile: [a]\n", `x.yaml:1: default_profile: expected a single value, got a list`},
		{"string for int", "server:\n  http_port: eighty\n", `x.yaml:2: server.http_port: expected a whole number, got "eighty"`},
		{"string for bool", "profiles:\n  d:\n    local: yes\n", `x.yaml:3: profiles.d.local: expected true or false, got "yes"`},
		{"scalar for section", "server: 1\n", `x.yaml:1: server: expected a mapping (key: value), got "1"`},
		{"list for map", "machines:\n  - mac: 52:54:00:00:00:01\n    labels: [a]\n", `x.yaml:3: machines[0].labels: expected a mapping (key: value), got a list`},
		{"bad duration", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/8\n      lease_time: forever\n",
			`x.yaml:4: dhcp.subnets[0].lease_time: "forever" is not a duration: use a number with a unit ("90s", "10m", "1h") or a whole number of seconds`},

		// server
		{"bad address", "server:\n  address: 192.0.2.300\n", `x.yaml:2: server.address: "192.0.2.300" is not an IPv4 or IPv6 address`},
		{"link-local address", "server:\n  address: fe80::1\n", `x.yaml:2: server.address: fe80::1 cannot be advertised in boot URLs; use a global or unique-local IPv6 address`},
		{"http port", "server:\n  http_port: 70000\n", `x.yaml:2: server.http_port: 70000 is not a port number (1-65535)`},
		{"tftp port", "server:\n  tftp_port: -1\n", `x.yaml:2: server.tftp_port: -1 is not a port number (1-65535)`},
		{"empty data_dir", "server:\n  data_dir: \"\"\n", `x.yaml:2: server.data_dir: must not be empty (default /var/lib/rackboot)`},

		// dhcp
		{"mode", "dhcp:\n  mode: relay\n", `x.yaml:2: dhcp.mode: "relay" is not a DHCP mode (use full, proxy or off)`},
		{"cidr missing", "dhcp:\n  subnets:\n    - range: 10.0.0.1-10.0.0.2\n", `x.yaml:3: dhcp.subnets[0].cidr: required, such as 192.0.2.0/24`},
		{"cidr bad", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0\n", `x.yaml:3: dhcp.subnets[0].cidr: "10.0.0.0" is not an IPv4 network such as 192.0.2.0/24`},
		{"cidr ipv4-mapped", "dhcp:\n  subnets:\n    - cidr: ::ffff:10.0.0.0/120\n", `x.yaml:3: dhcp.subnets[0].cidr: "::ffff:10.0.0.0/120" is not an IPv6 network such as 2001:db8:1::/64`},
		{"range syntax", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/24\n      range: 10.0.0.1\n",
			`x.yaml:4: dhcp.subnets[0].range: "10.0.0.1" is not a range such as 192.0.2.100-192.0.2.200`},
		{"range address", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/24\n      range: 10.0.0.1-10.0.0.x\n",
			`x.yaml:4: dhcp.subnets[0].range: "10.0.0.x" is not an IPv4 address`},
		{"range reversed", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/24\n      range: 10.0.0.9-10.0.0.1\n",
			`x.yaml:4: dhcp.subnets[0].range: range starts at 10.0.0.9, after its end 10.0.0.1`},
		{"range outside", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/24\n      range: 10.0.0.9-10.0.1.1\n",
			`x.yaml:4: dhcp.subnets[0].range: range 10.0.0.9-10.0.1.1 is not inside 10.0.0.0/24`},
		{"router", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/24\n      router: gw\n", `x.yaml:4: dhcp.subnets[0].router: "gw" is not an IPv4 address`},
		{"dns", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/24\n      dns:\n        - 10.0.0.1\n        - ns1\n",
			`x.yaml:6: dhcp.subnets[0].dns[1]: "ns1" is not an IPv4 address`},
		{"lease zero", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/24\n      lease_time: 0\n", `x.yaml:4: dhcp.subnets[0].lease_time: must be longer than 0s, got 0s`},
		{"overlap", "dhcp:\n  subnets:\n    - cidr: 10.0.0.0/16\n    - cidr: 10.1.0.0/16\n    - cidr: 10.0.3.0/24\n",
			`x.yaml:5: dhcp.subnets[2].cidr: 10.0.3.0/24 overlaps 10.0.0.0/16 of dhcp.subnets[0] (line 3)`},

		// profiles
		{"profile empty", "profiles:\n  demo: {}\n", `x.yaml:2: profiles.demo: needs one of kernel, local: true, shell: true, menu, chain or script; none is set`},
		{"profile conflict", "profiles:\n  demo:\n    local: true\n    shell: true\n",
			`x.yaml:2: profiles.demo: local, shell are all set; use exactly one of kernel, local, shell, menu, chain or script`},
		{"profile name", "profiles:\n  bad name: {local: true}\n",
			`x.yaml:2: profiles["bad name"]: "bad name" is not a valid profile name (use letters, digits, '_', '.' and '-')`},
		{"initrd without kernel", "profiles:\n  demo:\n    local: true\n    initrd: [a]\n", `x.yaml:4: profiles.demo.initrd: only allowed with kernel`},
		{"cmdline without kernel", "profiles:\n  demo:\n    shell: true\n    cmdline: quiet\n", `x.yaml:4: profiles.demo.cmdline: only allowed with kernel`},
		{"kernel absolute", "server: {assets: a}\nprofiles:\n  demo:\n    kernel: /boot/vmlinuz\n",
			`x.yaml:4: profiles.demo.kernel: "/boot/vmlinuz" is an absolute path; give a path relative to server.assets or an http(s) URL`},
		{"kernel dotdot", "server: {assets: a}\nprofiles:\n  demo:\n    kernel: deb/../../etc/passwd\n",
			`x.yaml:4: profiles.demo.kernel: "deb/../../etc/passwd" contains ".."; paths must stay inside server.assets`},
		{"kernel ftp", "profiles:\n  demo:\n    kernel: ftp://h/vmlinuz\n", `x.yaml:3: profiles.demo.kernel: "ftp://h/vmlinuz" is not an http:// or https:// URL`},
		{"kernel without assets", "profiles:\n  demo:\n    kernel: vmlinuz\n",
			`x.yaml:3: profiles.demo.kernel: "vmlinuz" is a file in the assets folder, but server.assets is not set`},
		{"initrd dotdot", "server: {assets: a}\nprofiles:\n  demo:\n    kernel: http://h/k\n    initrd: [ok.img, ../x.img]\n",
			`x.yaml:5: profiles.demo.initrd[1]: "../x.img" contains ".."; paths must stay inside server.assets`},
		{"menu unknown item", "profiles:\n  a: {local: true}\n  m:\n    menu:\n      items: [a, b]\n",
			`x.yaml:5: profiles.m.menu.items[1]: profile "b" is not defined (profiles: a, m)`},
		{"menu self", "profiles:\n  a: {local: true}\n  m:\n    menu:\n      items:\n        - a\n        - m\n",
			`x.yaml:7: profiles.m.menu.items[1]: a menu cannot list itself`},
		{"menu default", "profiles:\n  a: {local: true}\n  b: {shell: true}\n  m:\n    menu:\n      items: [a]\n      default: b\n",
			`x.yaml:7: profiles.m.menu.default: "b" is not one of the menu's items`},
		{"menu no items", "profiles:\n  m:\n    menu: {title: x}\n", `x.yaml:3: profiles.m.menu.items: a menu needs at least one item`},
		{"menu timeout", "profiles:\n  a: {local: true}\n  m:\n    menu:\n      items: [a]\n      timeout: -5\n",
			`x.yaml:6: profiles.m.menu.timeout: must not be negative, got -5s`},

		// machines
		{"mac missing", profilesOK + "machines:\n  - hostname: n1\n", `x.yaml:4: machines[0].mac: required, such as 52:54:00:12:34:56`},
		{"mac bad", profilesOK + "machines:\n  - mac: 52:54:00:12:34:56\n  - mac: \"52:54:00:zz:00:01\"\n",
			`x.yaml:5: machines[1].mac: "52:54:00:zz:00:01" is not a MAC address`},
		{"mac 8 bytes", "machines:\n  - mac: 02:00:5e:10:00:00:00:01\n", `x.yaml:2: machines[0].mac: "02:00:5e:10:00:00:00:01" is not a MAC address`},
		{"mac duplicate", "machines:\n  - mac: 52:54:00:12:34:56\n  - mac: 52-54-00-12-34-56\n",
			`x.yaml:3: machines[1].mac: 52:54:00:12:34:56 is also the mac of machines[0] (line 2)`},
		{"uuid", "machines:\n  - mac: 52:54:00:12:34:56\n    uuid: 1234\n", `x.yaml:3: machines[0].uuid: "1234" is not a UUID (8-4-4-4-12 hex digits)`},
		{"ipv4 bad", "machines:\n  - mac: 52:54:00:12:34:56\n    ipv4: 10.0.0\n", `x.yaml:3: machines[0].ipv4: "10.0.0" is not an IPv4 address`},
		{"ipv4 outside subnets", "dhcp:\n  subnets: [{cidr: 10.0.0.0/24}]\nmachines:\n  - mac: 52:54:00:12:34:56\n    ipv4: 10.0.1.5\n",
			`x.yaml:5: machines[0].ipv4: 10.0.1.5 is not inside any of dhcp.subnets`},
		{"ipv4 duplicate", "machines:\n  - mac: 52:54:00:12:34:56\n    ipv4: 10.0.0.5\n  - mac: 52:54:00:12:34:57\n    ipv4: 10.0.0.5\n",
			`x.yaml:5: machines[1].ipv4: 10.0.0.5 is also the ipv4 of machines[0] (line 2)`},
		{"machine profile", profilesOK + "machines:\n  - mac: 52:54:00:12:34:56\n    profile: demp\n",
			`x.yaml:5: machines[0].profile: profile "demp" is not defined (profiles: demo)`},
		{"reserved label", "machines:\n  - mac: 52:54:00:12:34:56\n    labels:\n      hostname: n1\n",
			`x.yaml:4: machines[0].labels.hostname: "hostname" is a reserved selector key and cannot be a label; it comes from the machine itself`},

		// groups
		{"group name", profilesOK + "groups:\n  - selector: {rack: a}\n    profile: demo\n", `x.yaml:4: groups[0].name: required`},
		{"group duplicate", profilesOK + "groups:\n  - {name: g, selector: {rack: a}, profile: demo}\n  - {name: g, selector: {rack: b}, profile: demo}\n",
			`x.yaml:5: groups[1].name: g is also the name of groups[0] (line 4)`},
		{"group selector empty", profilesOK + "groups:\n  - name: g\n    profile: demo\n",
			`x.yaml:4: groups[0].selector: required: a group with an empty selector would match every machine; use default_profile instead`},
		{"group selector value", profilesOK + "groups:\n  - name: g\n    profile: demo\n    selector:\n      rack: \"\"\n      arch: efi\n      mac: 52-54-00-12-34-56\n",
			"x.yaml:7: groups[0].selector.rack: must not be empty\n" +
				`x.yaml:8: groups[0].selector.arch: "efi" is not a client architecture number (0-65535, such as 7 for x86-64 UEFI)` + "\n" +
				`x.yaml:9: groups[0].selector.mac: "52-54-00-12-34-56" is not a MAC address written like 52:54:00:12:34:56`},
		{"group profile missing", profilesOK + "groups:\n  - name: g\n    selector: {rack: a}\n", `x.yaml:4: groups[0].profile: required: name a profile`},
		{"group profile unknown", "groups:\n  - name: g\n    selector: {rack: a}\n    profile: demo\n",
			`x.yaml:4: groups[0].profile: profile "demo" is not defined (there are no profiles)`},

		{"default_profile", profilesOK + "default_profile: dmeo\n", `x.yaml:3: default_profile: profile "dmeo" is not defined (profiles: demo)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrors(t, tt.src); got != tt.want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestParseReportsAllErrors(t *testing.T) {
	src := `
server:
  address: nowhere
  http_port: 0
dhcp:
  mode: ful
profiles:
  demo:
    kernal: vmlinuz
machines:
  - mac: 52:54:00:12:34:56
    profile: nope
  - mac: 52:54:00:12:34:56
default_profile: missing
`
	want := strings.Join([]string{
		`x.yaml:2: server.address: "nowhere" is not an IPv4 or IPv6 address`,
		`x.yaml:3: server.http_port: 0 is not a port number (1-65535)`,
		`x.yaml:5: dhcp.mode: "ful" is not a DHCP mode (use full, proxy or off)`,
		`x.yaml:8: profiles.demo.kernal: unknown key (did you mean "kernel"?)`,
		`x.yaml:11: machines[0].profile: profile "nope" is not defined (profiles: demo)`,
		`x.yaml:12: machines[1].mac: 52:54:00:12:34:56 is also the mac of machines[0] (line 10)`,
		`x.yaml:13: default_profile: profile "missing" is not defined (profiles: demo)`,
	}, "\n")
	if got := parseErrors(t, src); got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}
