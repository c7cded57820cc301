package config

import (
	"strings"
	"testing"
)

func TestTFTPSettings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // every error, one a line; "" for none
	}{
		{"bound below 1", "server:\n  tftp_max_transfers: -1\n", `x.yaml:2: server.tftp_max_transfers: -1 is out of range (1-100000; default 2000)`},
		{"bound too large", "server:\n  tftp_max_transfers: 100001\n", `x.yaml:2: server.tftp_max_transfers: 100001 is out of range (1-100000; default 2000)`},
		{"bound set", "server:\n  tftp_max_transfers: 50\n", ""},
		{"https for pxelinux", "server: {assets: a}\nprofiles:\n  p:\n    loader: pxelinux\n    kernel: https://example.org/vmlinuz\n",
			`x.yaml:5: profiles.p.kernel: "https://example.org/vmlinuz": PXELINUX (lpxelinux.0) cannot fetch https:// URLs; use http:// or a file of server.assets`},
		{"https for ipxe is fine", "profiles:\n  p:\n    kernel: https://example.org/vmlinuz\n", ""},
		{"comma in a pxelinux initrd", "server: {assets: a}\nprofiles:\n  p:\n    loader: pxelinux\n    kernel: vmlinuz\n    initrd: [\"a,b\"]\n",
			`x.yaml:6: profiles.p.initrd[0]: "a,b": PXELINUX's initrd= separates files with commas, so a name cannot hold one`},
		{"line break in a pxelinux cmdline", "server: {assets: a}\nprofiles:\n  p:\n    loader: pxelinux\n    kernel: vmlinuz\n    cmdline: \"quiet\\nLABEL x\"\n",
			`x.yaml:6: profiles.p.cmdline: must be one line without control characters for PXELINUX's APPEND`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.src))
			got := ""
			if err != nil {
				got = strings.TrimSpace(err.Error())
			}
			if got != tt.want {
				t.Errorf("errors (-want +got):\n-%s\n+%s", tt.want, got)
			}
		})
	}
	cfg, err := Parse("x.yaml", []byte("server: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.TFTPMaxTransfers != DefaultTFTPMaxTransfers {
		t.Errorf("default tftp_max_transfers = %d, want %d", cfg.Server.TFTPMaxTransfers, DefaultTFTPMaxTransfers)
	}
}
