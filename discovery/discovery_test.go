package discovery

import (
	"net"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/internal/testinv"
)

func request(t *testing.T, mac string, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	hw, _ := net.ParseMAC(mac)
	req, err := dhcpv4.NewDiscovery(hw, mods...)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestObserve: a relayed UEFI PXE DISCOVER with option 97 and option 82
// is recorded with every fact; a second request keeps the first time
// seen and counts; the records survive Save and Open; the oldest goes
// when the registry is full.
func TestObserve(t *testing.T) {
	dir := t.TempDir()
	reg, err := Open(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	uuid := append([]byte{0}, []byte("0123456789abcdef")...)
	req := request(t, "52:54:00:00:00:01",
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00007:UNDI:003010")),
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.EFI_X86_64)),
		dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, uuid),
		dhcpv4.WithGatewayIP(net.IPv4(198, 51, 100, 1)),
		dhcpv4.WithOption(dhcpv4.OptRelayAgentInfo(
			dhcpv4.OptGeneric(dhcpv4.AgentCircuitIDSubOption, []byte("swp12")),
			dhcpv4.OptGeneric(dhcpv4.AgentRemoteIDSubOption, []byte{0xde, 0xad, 0xbe, 0xef}))))
	t0 := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	reg.Observe(req, dhcpwire.Classify(req), t0)
	reg.Observe(req, dhcpwire.Classify(req), t0.Add(time.Minute))
	rec, ok := reg.Get("52:54:00:00:00:01")
	if !ok {
		t.Fatal("not recorded")
	}
	if rec.Arch == nil || *rec.Arch != 7 || rec.Firmware != boot.ClassPXE.String() || rec.VendorClass != "PXEClient:Arch:00007:UNDI:003010" ||
		rec.UUID != dhcpwire.FormatUUID(uuid[1:]) || rec.Relay != "198.51.100.1" || rec.CircuitID != "swp12" || rec.RemoteID != "0xdeadbeef" ||
		!rec.FirstSeen.Equal(t0) || !rec.LastSeen.Equal(t0.Add(time.Minute)) || rec.Requests != 2 {
		t.Errorf("record: %+v", rec)
	}
	if err := reg.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := again.Get("52:54:00:00:00:01"); !ok || got.CircuitID != "swp12" || !got.FirstSeen.Equal(t0) {
		t.Errorf("after Open: %+v %v", got, ok)
	}
	for i, mac := range []string{"52:54:00:00:00:02", "52:54:00:00:00:03"} {
		r := request(t, mac, dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient")))
		again.Observe(r, dhcpwire.Classify(r), t0.Add(time.Duration(i+2)*time.Minute))
	}
	if l := again.List(); len(l) != 2 || l[0].MAC != "52:54:00:00:00:02" || l[1].MAC != "52:54:00:00:00:03" {
		t.Errorf("after eviction: %+v, want the two seen last", l)
	}
}

// TestUnknown: only network-booting clients that no rule gives a profile
// count as discovered.
func TestUnknown(t *testing.T) {
	inv := boot.NewInventory(testinv.Parse(t, "dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: disk}\ngroups:\n  - {name: r, selector: {rack: r1}, profile: disk}\n"))
	known, _ := net.ParseMAC("52:54:00:00:00:01")
	other, _ := net.ParseMAC("52:54:00:00:00:02")
	for _, tt := range []struct {
		f    boot.Facts
		want bool
	}{
		{boot.Facts{MAC: known, Class: boot.ClassPXE}, false},
		{boot.Facts{MAC: other, Class: boot.ClassPXE}, true},
		{boot.Facts{MAC: other, Class: boot.ClassIPXE}, true},
		{boot.Facts{MAC: other, Class: boot.ClassPlain}, false},
		{boot.Facts{MAC: other, Class: boot.ClassPXE, Labels: map[string]string{"rack": "r1"}}, false},
	} {
		if got := Unknown(inv, tt.f); got != tt.want {
			t.Errorf("%+v: Unknown = %v, want %v", tt.f, got, tt.want)
		}
	}
	if Unknown(boot.NewInventory(testinv.Parse(t, "dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\ndefault_profile: disk\n")), boot.Facts{MAC: other, Class: boot.ClassPXE}) {
		t.Error("a client that default_profile covers counted as discovered")
	}
}

// FuzzFromRequest: any request that parses gives a record without
// panicking, and printable() never returns control characters.
func FuzzFromRequest(f *testing.F) {
	hw, _ := net.ParseMAC("52:54:00:00:00:01")
	req, _ := dhcpv4.NewDiscovery(hw, dhcpv4.WithOption(dhcpv4.OptRelayAgentInfo(dhcpv4.OptGeneric(dhcpv4.AgentCircuitIDSubOption, []byte("a\x01")))))
	f.Add(req.ToBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		rec := FromRequest(req, dhcpwire.Classify(req))
		for _, s := range []string{rec.CircuitID, rec.RemoteID} {
			for _, c := range s {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("unprintable %q", s)
				}
			}
		}
	})
}
