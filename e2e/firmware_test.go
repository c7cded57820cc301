package e2e

import (
	"os"
	"testing"
)

// UEFI HTTP Boot and the iPXE EFI ROM, in full and proxy mode. httpboot
// switches OVMF's PXE off, so the only way to the payload is HTTP Boot:
// DHCP with vendor class HTTPClient, a URL as boot file, ipxe.efi over
// HTTP, then iPXE's own DHCP and script.

func TestHTTPBootFull(t *testing.T) { requireOVMF(t); bootVM(t, "httpboot") }

func TestHTTPBootProxy(t *testing.T) { requireOVMF(t); requireDnsmasq(t); bootVM(t, "proxy-httpboot") }

// TestUEFIiPXEROM boots OVMF with QEMU's iPXE EFI option ROM on the NIC:
// the first DHCP request already comes from iPXE (EFI build).
func TestUEFIiPXEROM(t *testing.T) { requireOVMF(t); bootVM(t, "uefiipxe") }

func requireOVMF(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ovmfCode); err != nil {
		t.Skipf("UEFI boot needs OVMF (%s missing: apt-get install ovmf)", ovmfCode)
	}
}
