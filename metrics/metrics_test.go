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

// TestAddRefusesDuplicates: two sources exposing the same name under one
// prefix (proxyDHCP's two "malformed" counters once were) are an error,
// not one summed sample.
func TestAddRefusesDuplicates(t *testing.T) {
	var r Registry
	if err := r.Add("proxydhcp", func() map[string]uint64 { return map[string]uint64{"malformed": 1, "offers": 2} }); err != nil {
		t.Fatal(err)
	}
	err := r.Add("proxydhcp", func() map[string]uint64 { return map[string]uint64{"malformed": 3} })
	if err == nil || err.Error() != "metrics: rackboot_proxydhcp_malformed_total is exposed twice" {
		t.Fatalf("Add = %v, want the duplicate named", err)
	}
	if err := r.Add("proxydhcp_port67", func() map[string]uint64 { return map[string]uint64{"malformed": 3} }); err != nil {
		t.Fatal(err)
	}
	want := "# TYPE rackboot_proxydhcp_malformed_total counter\nrackboot_proxydhcp_malformed_total 1\n" +
		"# TYPE rackboot_proxydhcp_offers_total counter\nrackboot_proxydhcp_offers_total 2\n" +
		"# TYPE rackboot_proxydhcp_port67_malformed_total counter\nrackboot_proxydhcp_port67_malformed_total 3\n"
	if d := golden.Diff(want, r.Text()); d != "" {
		t.Errorf("Text() (-want +got):\n%s", d)
	}
}

func TestGauges(t *testing.T) {
	var r Registry
	if err := r.Add("store", func() map[string]uint64 { return map[string]uint64{"txns": 3} }); err != nil {
		t.Fatal(err)
	}
	if err := r.AddGauges("cluster", func() map[string]uint64 { return map[string]uint64{"buckets": 128} }); err != nil {
		t.Fatal(err)
	}
	want := "# TYPE rackboot_cluster_buckets gauge\nrackboot_cluster_buckets 128\n" +
		"# TYPE rackboot_store_txns_total counter\nrackboot_store_txns_total 3\n"
	if got := r.Text(); got != want {
		t.Errorf("Text (-want +got):\n-%s\n+%s", want, got)
	}
}
