package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBootPXELINUX boots a BIOS VM whose profile has loader: pxelinux. QEMU's
// NIC ROM (iPXE) gets pxelinux.0 from DHCP and loads it over TFTP; PXELINUX
// loads ldlinux.c32, its generated pxelinux.cfg file, the kernel and the
// initrd over TFTP. lab.sh checks the PXELINUX banner, those transfers in
// rackboot's log, the marker and the profile's command line.
func TestBootPXELINUX(t *testing.T) {
	root := repoRoot(t)
	embedded := filepath.Join(root, "assets", "boot", "pxelinux.0")
	if _, err := os.Stat(embedded); err != nil {
		if _, err := os.Stat("/usr/lib/PXELINUX/pxelinux.0"); err != nil {
			t.Skip("pxelinux.0 is neither in assets/boot (make assets) nor in /usr/lib/PXELINUX (apt-get install pxelinux syslinux-common)")
		}
	}
	bootVM(t, "pxelinux")
}
