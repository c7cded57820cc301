package httpboot

import (
	"net/http"
	"strings"
	"testing"
)

// TestGRUBEndpoint: /grub renders the machine's grub.cfg with files from
// /assets/ over GRUB's http module and the command line templated from
// the query; unknown machines and bad queries say why.
func TestGRUBEndpoint(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		target     string
		wantStatus int
		wantBody   []string
	}{
		{"/grub?mac=" + knownMAC + "&rack=a", http.StatusOK, []string{
			"profile linux (machine)",
			"linux (http,10.0.0.1:8080)/assets/vmlinuz console=ttyS0\n",
			"initrd (http,10.0.0.1:8080)/assets/debian/initrd.gz\n",
			"boot\n",
		}},
		{"/grub?mac=52-54-00-12-34-56", http.StatusOK, []string{"profile linux"}},
		{"/grub?mac=52:54:00:00:00:09", http.StatusNotFound, []string{"no GRUB config for this machine", "no default_profile"}},
		{"/grub?mac=52:54:00:00:00:02", http.StatusNotFound, []string{"cmdline: must be one line"}},
		{"/grub?mac=zz", http.StatusBadRequest, []string{"mac"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			w := f.do("GET", tt.target, nil)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			for _, s := range tt.wantBody {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("body lacks %q:\n%s", s, w.Body)
				}
			}
		})
	}
}
