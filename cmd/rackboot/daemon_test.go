package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/events"
)

// newTestDaemon builds the daemon as serve does, for a DHCP-off inventory
// with extra YAML appended; it skips when the host has no loopback to
// serve on.
func newTestDaemon(t *testing.T, extra string, log *logrus.Logger) *daemon {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "rackboot.yaml")
	yaml := "server:\n  interface: lo\n  address: 127.0.0.1\n  data_dir: " + dir + "\ndhcp:\n  mode: off\nprofiles:\n  local: {local: true, loader: auto}\ndefault_profile: local\n" + extra
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDaemon(cfg, []byte(yaml), overrides{}, log)
	if err != nil {
		t.Skipf("no daemon on this host: %v", err)
	}
	return d
}

// TestDaemonRefusals builds the daemon as serve does and sends it, through
// the sink its servers emit into, a firmware that took ipxe.efi and asked
// again: the DHCP server's Refusals (the timeline) says so for the next
// DISCOVER, and the machine's summary counts it once the DISCOVER is in.
func TestDaemonRefusals(t *testing.T) {
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	d := newTestDaemon(t, "", log)
	r := d.refusals()
	if r == nil {
		t.Fatal("no Refusals with the timeline on")
	}
	hw := net.HardwareAddr{0x52, 0x54, 0, 0, 0, 0x77}
	mac, now := events.MACOf(hw), time.Now()
	for _, msg := range []string{"DISCOVER", "REQUEST"} {
		d.sink().Emit(events.Event{Time: now, MAC: mac, Kind: events.KindDHCP, Message: msg, Reply: map[string]string{"DISCOVER": "OFFER", "REQUEST": "ACK"}[msg],
			Class: "pxe", Arch: 7, HasArch: true, BootFile: "ipxe.efi", Loader: config.LoaderIPXE})
	}
	if !r.RefusedIPXE(hw, true) {
		t.Fatal("the second DISCOVER was not taken for a refusal of iPXE")
	}
	d.sink().Emit(events.Event{Time: time.Now(), MAC: mac, Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER", Class: "pxe", Arch: 7, HasArch: true,
		BootFile: "secureboot/shimx64.efi", Loader: config.LoaderGRUB})
	m, ok := d.timeline.Machine(mac)
	if !ok || m.RefusedIPXE == nil || m.RefusedIPXE.Count != 1 || !m.RefusedIPXE.Active {
		t.Errorf("machine's refused_ipxe = %+v, want count 1, active", m.RefusedIPXE)
	}
}

// TestDaemonTimelineOff: with timeline.enabled false there is no
// Refusals at all (not a nil *timeline.Store in an interface, which
// would not compare equal to nil), and the log says what loader auto
// then cannot do.
func TestDaemonTimelineOff(t *testing.T) {
	log, hook := logtest.NewNullLogger()
	d := newTestDaemon(t, "timeline:\n  enabled: false\n", log)
	if r := d.refusals(); r != nil {
		t.Fatalf("Refusals = %#v with the timeline off, want nil", r)
	}
	warned := false
	for _, e := range hook.AllEntries() {
		warned = warned || (e.Level == logrus.WarnLevel && strings.Contains(e.Message, "loader auto cannot tell"))
	}
	if !warned {
		t.Error("no warning that loader auto cannot see refusals with the timeline off")
	}
}
