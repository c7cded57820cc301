package httpboot

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/events"
)

func TestEventsAndMounts(t *testing.T) {
	f := newFixture(t)
	var got events.Collector
	inv := boot.NewInventory(testConfig(t))
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api " + r.URL.Path)) })
	srv := New(Options{
		Inventory: func() *boot.Inventory { return inv }, BaseURL: baseURL, Events: &got,
		Assets: assets.New(f.dir, nil).WithoutEmbedded().WithSystemDir(t.TempDir()),
		Mounts: []Mount{{Prefix: "/api/", Handler: api}, {Prefix: "/", Handler: api}},
	})
	get := func(target, remote string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", target, nil)
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		return w
	}
	get("/ipxe?mac=52-54-00-12-34-56", "192.0.2.100:1000")
	get("/assets/vmlinuz", "192.0.2.100:1001")
	get("/assets/nothere", "192.0.2.101:1001")
	for _, p := range []string{"/api/v1/machines", "/"} {
		if w := get(p, "192.0.2.100:1002"); w.Body.String() != "api "+p {
			t.Errorf("GET %s = %d %q, want the mounted handler", p, w.Code, w.Body.String())
		}
	}
	if w := get("/nowhere", "192.0.2.100:1003"); w.Code != http.StatusNotFound {
		t.Errorf("GET /nowhere = %d, want 404 (the / mount matches / only)", w.Code)
	}
	evs := got.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3 (script, kernel, missing file): %+v", len(evs), evs)
	}
	script, kern, missing := evs[0], evs[1], evs[2]
	if script.MAC.String() != knownMAC || script.Step != events.StepScript || script.Status != 200 ||
		script.Profile != "linux" || script.Kernel != "vmlinuz" || script.Initrd != "debian/initrd.gz" || script.Addr.String() != "192.0.2.100" || script.Via != "machine" {
		t.Errorf("script event = %+v", script)
	}
	if kern.MAC.String() != knownMAC || kern.File != "/assets/vmlinuz" || kern.Bytes != int64(len(kernel)) || kern.Step != events.StepUnknown {
		t.Errorf("asset event = %+v", kern)
	}
	if !missing.MAC.IsZero() || missing.Status != http.StatusNotFound {
		t.Errorf("missing asset event = %+v", missing)
	}
}

func TestEndpoint(t *testing.T) {
	for p, want := range map[string]string{
		"/boot.ipxe": "boot.ipxe", "/ipxe": "ipxe", "/ipxe.sig": "ipxe", "/metadata": "metadata", "/v1/boot/52:54:00:00:00:01": "pixiecore",
		"/assets/vmlinuz": "assets", "/api/v1/machines": "api", "/metrics": "metrics", "/": "ui", "/ui/app.js": "ui", "/x/y": "other",
	} {
		if got := Endpoint(p); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", p, got, want)
		}
	}
}
