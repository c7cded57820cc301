package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/admin"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// adminFixture is a reloader over an inventory file, with the admin API
// and its token check in front, as serve builds them.
type adminFixture struct {
	t     *testing.T
	file  string
	dir   string
	inv   *atomic.Pointer[boot.Inventory]
	r     *reloader
	h     http.Handler
	logs  *bytes.Buffer
	token string
}

const adminFile = "dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: disk}\n"

func newAdminFixture(t *testing.T, token string, readToken bool) *adminFixture {
	t.Helper()
	f := &adminFixture{t: t, dir: t.TempDir(), logs: &bytes.Buffer{}, token: token}
	f.file = filepath.Join(f.dir, "rackboot.yaml")
	if err := os.WriteFile(f.file, []byte(adminFile), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(f.file)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = filepath.Join(f.dir, "data")
	f.inv = &atomic.Pointer[boot.Inventory]{}
	f.inv.Store(boot.NewInventory(cfg))
	log := logrus.New()
	log.SetOutput(f.logs)
	d := &daemon{cfg: cfg, inv: f.inv, log: log, api: http.NewServeMux()}
	d.reload = newReloader(f.inv, overrides{}, log, []byte(adminFile))
	if token != "" {
		t.Setenv(admin.TokenEnv, token)
	} else {
		t.Setenv(admin.TokenEnv, "")
	}
	d.cfg.Server.APIReadToken = readToken
	if err := d.adminAPI(); err != nil {
		t.Fatal(err)
	}
	f.r, f.h = d.reload, d.apiAuth
	return f
}

// do sends a request with the fixture's token and returns the status
// and body.
func (f *adminFixture) do(method, path, body string) (int, string) {
	return f.doToken(method, path, body, f.token)
}

func (f *adminFixture) doToken(method, path, body, token string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// profileOf is the profile the inventory in force gives mac, "" for none.
func (f *adminFixture) profileOf(mac string) string {
	d := f.inv.Load().Decide(boot.Facts{MAC: mustMAC(f.t, mac), Class: boot.ClassIPXE}, boot.Server{})
	if d.Profile == nil {
		return ""
	}
	return d.Profile.Name
}

// TestAdminAPI adds, changes and removes machines and profiles; checks the
// same validation as the file with errors naming the field, the 409s that
// keep the file's entries, persistence, and that a file reload keeps the
// entries.
func TestAdminAPI(t *testing.T) {
	f := newAdminFixture(t, "s3cret", false)
	const mac = "52:54:00:00:00:02"
	steps := []struct {
		method, path, body string
		code               int
		inBody             string
	}{
		{"POST", "/api/v1/machines/" + mac, `{"profile": "nope"}`, 422, `"field": "profile"`},
		{"POST", "/api/v1/machines/" + mac, `{"profile": "disk", "labls": {}}`, 422, `"field": "labls"`},
		{"POST", "/api/v1/machines/" + mac, `{"profile": "disk", "ipv4": "300.1.1.1"}`, 422, `"field": "ipv4"`},
		{"POST", "/api/v1/machines/" + mac, `{"mac": "52:54:00:00:00:09", "profile": "disk"}`, 400, `"field": "mac"`},
		{"POST", "/api/v1/machines/" + mac, `[1]`, 400, "JSON object"},
		{"POST", "/api/v1/machines/zz", `{}`, 400, "not a MAC address"},
		{"POST", "/api/v1/profiles/rescue", `{"shell": true, "local": true}`, 422, "local, shell are all set"},
		{"POST", "/api/v1/profiles/rescue", `{"shell": true}`, 201, `"shell": true`},
		{"POST", "/api/v1/profiles/rescue", `{"shell": true}`, 409, "PUT replaces it"},
		{"POST", "/api/v1/profiles/disk", `{"shell": true}`, 409, "defined in the inventory file"},
		{"POST", "/api/v1/machines/52-54-00-00-00-01", `{"profile": "rescue"}`, 409, "defined in the inventory file"},
		{"DELETE", "/api/v1/machines/52:54:00:00:00:01", ``, 409, "defined in the inventory file"},
		{"POST", "/api/v1/machines/52:54:00:00:00:02", `{"profile": "rescue", "hostname": "n2"}`, 201, `"mac": "52:54:00:00:00:02"`},
		{"PUT", "/api/v1/machines/52:54:00:00:00:03", `{"profile": "disk"}`, 201, `"profile": "disk"`},
		{"PUT", "/api/v1/machines/52:54:00:00:00:03", `{"profile": "rescue"}`, 200, `"profile": "rescue"`},
		{"DELETE", "/api/v1/profiles/rescue", ``, 422, `"field": "machines[52:54:00:00:00:02].profile"`},
		{"DELETE", "/api/v1/machines/52:54:00:00:00:03", ``, 204, ``},
		{"DELETE", "/api/v1/machines/52:54:00:00:00:03", ``, 404, "not made through the API"},
	}
	for _, s := range steps {
		code, body := f.do(s.method, s.path, s.body)
		if code != s.code || !strings.Contains(body, s.inBody) {
			t.Errorf("%s %s %s: %d %s\nwant %d with %q", s.method, s.path, s.body, code, body, s.code, s.inBody)
		}
	}
	if got := f.profileOf(mac); got != "rescue" {
		t.Errorf("the API machine gets profile %q, want rescue", got)
	}
	if got := f.profileOf("52:54:00:00:00:03"); got != "" {
		t.Errorf("a deleted machine gets profile %q", got)
	}
	// Persisted: a new store on the folder reads the same entries.
	st, err := admin.Open(filepath.Join(f.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	e := st.Entries()
	if len(e.Machines) != 1 || len(e.Profiles) != 1 || e.Machines[mac] == nil {
		t.Errorf("stored entries: %+v", e)
	}
	// A file edit keeps the entries; a file that takes the MAC wins.
	os.WriteFile(f.file, []byte(adminFile+"  - {mac: \""+mac+"\", profile: disk}\n"), 0o644)
	if !f.r.reload() {
		t.Fatal("reload failed")
	}
	if got := f.profileOf(mac); got != "disk" {
		t.Errorf("after the file took the MAC: profile %q, want the file's disk", got)
	}
	if !strings.Contains(f.logs.String(), "the file's wins") {
		t.Errorf("no warning that the file's entry wins:\n%s", f.logs)
	}
	os.WriteFile(f.file, []byte(adminFile), 0o644)
	if !f.r.reload() || f.profileOf(mac) != "rescue" {
		t.Errorf("the API entry did not come back when the file let go of the MAC: %q", f.profileOf(mac))
	}
	var list admin.Entries
	if code, body := f.do("GET", "/api/v1/entries", ""); code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Machines) != 1 {
		t.Errorf("GET /api/v1/entries: %d %s", code, body)
	}
}

// TestAdminAuth: no token configured: writes are 403 saying how to turn
// them on; a missing or wrong token is 401 and logged without the token;
// reads are open unless api_read_token.
func TestAdminAuth(t *testing.T) {
	off := newAdminFixture(t, "", false)
	if code, body := off.do("PUT", "/api/v1/machines/52:54:00:00:00:02", `{"profile": "disk"}`); code != 403 ||
		!strings.Contains(body, "server.admin_token_file") || !strings.Contains(body, admin.TokenEnv) {
		t.Errorf("write without a configured token: %d %s", code, body)
	}
	f := newAdminFixture(t, "s3cret-token", false)
	for _, tok := range []string{"", "wrong-token-value"} {
		if code, _ := f.doToken("PUT", "/api/v1/machines/52:54:00:00:00:02", `{"profile": "disk"}`, tok); code != 401 {
			t.Errorf("token %q: %d, want 401", tok, code)
		}
	}
	if strings.Contains(f.logs.String(), "wrong-token-value") || !strings.Contains(f.logs.String(), "token=wrong") || !strings.Contains(f.logs.String(), "token=missing") {
		t.Errorf("the refusals are not logged, or the log shows the token:\n%s", f.logs)
	}
	if code, _ := f.doToken("GET", "/api/v1/entries", "", ""); code != 200 {
		t.Errorf("read without a token: %d, want 200", code)
	}
	if code, _ := f.do("PUT", "/api/v1/machines/52:54:00:00:00:02", `{"profile": "disk"}`); code != 201 {
		t.Errorf("write with the token: %d, want 201", code)
	}
	// Booted machines report without a token.
	if code, body := f.doToken("POST", "/api/v1/report", "", ""); code == 401 || code == 403 {
		t.Errorf("POST /api/v1/report without a token: %d %s, want it past the token check", code, body)
	}
	ro := newAdminFixture(t, "s3cret-token", true)
	if code, _ := ro.doToken("GET", "/api/v1/entries", "", ""); code != 401 {
		t.Errorf("read without a token, api_read_token on: %d, want 401", code)
	}
	if code, _ := ro.do("GET", "/api/v1/entries", ""); code != 200 {
		t.Errorf("read with the token, api_read_token on: %d, want 200", code)
	}
}
