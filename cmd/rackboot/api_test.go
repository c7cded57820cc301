package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/internal/testinv"
)

// TestStatus: GET /api/v1/status shows the mode and the reloader's view
// of the inventory file.
func TestStatus(t *testing.T) {
	cfg := testinv.Parse(t, "dhcp: {mode: proxy}\nprofiles:\n  disk: {local: true}\n")
	var inv atomic.Pointer[boot.Inventory]
	inv.Store(boot.NewInventory(cfg))
	log := logrus.New()
	log.SetOutput(io.Discard)
	d := &daemon{cfg: cfg, api: http.NewServeMux(), started: time.Unix(1700000000, 0).UTC(),
		reload: newReloader(&inv, overrides{}, log, []byte("abc"))}
	d.routes()
	rec := httptest.NewRecorder()
	d.api.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/status", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var got status
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, rec.Body)
	}
	if got.DHCPMode != "proxy" || got.Inventory.SHA256 != hashOf([]byte("abc")) || got.Inventory.LastError != nil ||
		!got.StartedAt.Equal(d.started) || got.Inventory.RestartNeeded == nil {
		t.Errorf("got %+v", got)
	}
}
