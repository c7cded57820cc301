package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// TestDaemonHandoffEmits builds the daemon as serve does and drives its
// iPXE-refusal tracker through a refusal: the event it emits reaches the
// timeline and the event metrics. Built before the metrics existed, the
// tracker held a nil *metrics.Events and every refusal panicked (seen as
// "dhcp: handling a request panicked" in the Secure Boot lab).
func TestDaemonHandoffEmits(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rackboot.yaml")
	yaml := "server:\n  interface: lo\n  address: 127.0.0.1\n  data_dir: " + dir + "\ndhcp:\n  mode: off\nprofiles:\n  local: {local: true}\ndefault_profile: local\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	d, err := newDaemon(cfg, []byte(yaml), overrides{}, log)
	if err != nil {
		t.Skipf("no daemon on this host: %v", err)
	}
	mac := net.HardwareAddr{0x52, 0x54, 0, 0, 0, 0x77}
	f := boot.Facts{MAC: mac, Class: boot.ClassPXE, Arch: boot.ArchEFIx64, HasArch: true}
	handed := boot.Decision{Next: boot.Next{Step: boot.StepTFTP, Program: "ipxe.efi", Loader: config.LoaderIPXE}}
	d.handoff.Decided(dhcpv4.MessageTypeDiscover, f, handed)
	d.handoff.Decided(dhcpv4.MessageTypeRequest, f, handed)
	again := f
	d.handoff.Amend(dhcpv4.MessageTypeDiscover, &again) // panicked here
	if !again.RefusedIPXE {
		t.Fatal("the second DISCOVER was not taken for a refusal of iPXE")
	}
}
