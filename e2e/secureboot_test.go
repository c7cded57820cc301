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

// TestSecureBootHTTPBoot boots the same firmware by UEFI HTTP Boot alone
// (its PXE and IPv6 off): rackboot hands it the URL of its Secure Boot
// disk image, the firmware mounts it as a RAM disk and starts Shim from
// it, Shim the signed GRUB beside it, and GRUB the image's grub.cfg, which
// goes on over TFTP (generated grub.cfg, kernel, initrd). lab.sh checks
// the image's HTTP transfer on top of the kernel's "Secure boot enabled".
func TestSecureBootHTTPBoot(t *testing.T) { requireSecureBoot(t); bootVM(t, "httpboot-secureboot") }

// TestProxySecureBootHTTPBoot is the same beside dnsmasq, rackboot in
// proxy mode.
func TestProxySecureBootHTTPBoot(t *testing.T) {
	requireSecureBoot(t)
	requireDnsmasq(t)
	bootVM(t, "proxy-httpboot-secureboot")
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

// TestSecureBootAuto gives it loader: auto: the firmware's PXE attempt
// is handed iPXE and refuses it, and its next attempt, HTTP Boot over IPv4
// (OVMF's IPv6 is off, lab.sh cmd_refused, so no PXE over IPv6 waits
// between), gets the signed chain as rackboot's disk image and boots to
// the payload with "Secure boot enabled": about 30 s under TCG here.
func TestSecureBootAuto(t *testing.T) { requireSecureBoot(t); bootVM(t, "sbauto") }
