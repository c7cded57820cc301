package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// The Secure Boot tests boot OVMF's Secure Boot build with Microsoft's keys
// enrolled (q35, SMM) through firmware PXE. With loader: grub rackboot hands
// the firmware Debian's signed Shim; Shim loads the signed GRUB from the
// same TFTP folder, GRUB a generated grub.cfg, then Debian's signed kernel
// and the initrd over TFTP. lab.sh checks the kernel's "Secure boot
// enabled", those transfers in rackboot's log, the marker and the
// profile's command line.

const ovmfSecureBoot = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"

func TestSecureBootGRUB(t *testing.T) { requireSecureBoot(t); bootVM(t, "secureboot") }

func TestProxySecureBootGRUB(t *testing.T) {
	requireSecureBoot(t)
	requireDnsmasq(t)
	bootVM(t, "proxy-secureboot")
}

func requireSecureBoot(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ovmfSecureBoot); err != nil {
		t.Skipf("Secure Boot tests need OVMF's Secure Boot build (%s missing: apt-get install ovmf)", ovmfSecureBoot)
	}
	root := repoRoot(t)
	for _, f := range []string{"shimx64.efi", "grubx64.efi"} {
		if _, err := os.Stat(filepath.Join(root, "assets", "boot", "secureboot", f)); err != nil {
			t.Skipf("assets/boot/secureboot/%s missing: run `make assets`", f)
		}
	}
}

// TestSecureBootRefusesIPXE gives the same machine loader: ipxe: the
// firmware loads ipxe.efi and refuses it ("Access Denied"), asks again
// with its next boot option, and rackboot reports the refusal in its log
// and in GET /api/v1/machines/MAC.
func TestSecureBootRefusesIPXE(t *testing.T) { requireSecureBoot(t); bootVM(t, "sbipxe") }

// TestSecureBootAuto gives it loader: auto and a second network card with
// the same MAC (OVMF's next PXE attempt): the first card's iPXE is
// refused, the second card's request gets the signed chain and boots to
// the payload with "Secure boot enabled". OVMF's IPv6 is off (lab.sh
// cmd_refused), so that the only attempt between the two PXE ones is HTTP
// Boot over IPv4, which waits a minute for a usable offer (rackboot's has
// an address and no boot file: HTTP Boot cannot take the signed chain,
// docs/secure-boot.md); about 80 s of VM time under TCG here. With IPv6 on,
// HTTP Boot over IPv6 waited minutes more.
func TestSecureBootAuto(t *testing.T) { requireSecureBoot(t); bootVM(t, "sbauto") }
