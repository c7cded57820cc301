package metrics

import (
	"net/http/httptest"
	"testing"

	"github.com/rackboot/rackboot/internal/golden"
)

func TestText(t *testing.T) {
	var r Registry
	n := uint64(0)
	r.Add("dhcp", func() map[string]uint64 { return map[string]uint64{"offers": n, "pool_exhausted": 2} })
	r.Add("tftp", func() map[string]uint64 { return map[string]uint64{"transfers": 5} })
	n = 7
	want := "# TYPE rackboot_dhcp_offers_total counter\nrackboot_dhcp_offers_total 7\n" +
		"# TYPE rackboot_dhcp_pool_exhausted_total counter\nrackboot_dhcp_pool_exhausted_total 2\n" +
		"# TYPE rackboot_tftp_transfers_total counter\nrackboot_tftp_transfers_total 5\n"
	if d := golden.Diff(want, r.Text()); d != "" {
		t.Errorf("Text() (-want +got):\n%s", d)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Body.String() != want || rec.Header().Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("ServeHTTP = %q %q", rec.Header().Get("Content-Type"), rec.Body.String())
	}
}
