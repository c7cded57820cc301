package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcp"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/testinv"
	"github.com/rackboot/rackboot/timeline"
)

const inventory = `
profiles: {demo: {kernel: vmlinuz}}
machines:
  - {mac: "52:54:00:00:00:01", hostname: node1, profile: demo}
  - {mac: "52:54:00:00:00:02", hostname: node2}
`

type fixture struct {
	tl  *timeline.Store
	api *API
	mux *http.ServeMux
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tl, err := timeline.New(timeline.Config{})
	if err != nil {
		t.Fatal(err)
	}
	inv := boot.NewInventory(testinv.Parse(t, inventory))
	a := New(Options{Timeline: tl, Inventory: func() *boot.Inventory { return inv }, Reports: tl,
		Leases: func() []dhcp.Usage {
			return []dhcp.Usage{{CIDR: netip.MustParsePrefix("192.0.2.0/24"), Size: 101, InUse: 1, Free: 100}}
		}})
	mux := http.NewServeMux()
	a.Register(mux)
	return &fixture{tl: tl, api: a, mux: mux}
}

func (f *fixture) do(t *testing.T, method, target, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	req.RemoteAddr = "192.0.2.100:5000"
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, req)
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want JSON", method, target, ct)
	}
	var v map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", method, target, err, w.Body)
	}
	return w.Code, v
}

func TestMachines(t *testing.T) {
	f := newFixture(t)
	f.tl.Emit(events.Event{MAC: mustMAC("02:00:00:00:00:09"), Kind: events.KindDHCP, Message: "DISCOVER", Class: "pxe",
		Reason: "no machine entry, no group matched"})
	f.tl.Emit(events.Event{MAC: mustMAC("52:54:00:00:00:01"), Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER",
		Class: "ipxe", Addr: netip.MustParseAddr("192.0.2.100"), BootFile: "http://x/boot.ipxe", Profile: "demo", Via: "machine"})
	code, body := f.do(t, "GET", "/api/v1/machines", "")
	if code != 200 || body["timeline"] != true {
		t.Fatalf("status %d: %v", code, body)
	}
	ms := body["machines"].([]any)
	if len(ms) != 3 {
		t.Fatalf("%d machines, want 3 (two in the inventory, one stranger): %v", len(ms), ms)
	}
	got := map[string]map[string]any{}
	for _, m := range ms {
		mm := m.(map[string]any)
		got[mm["mac"].(string)] = mm
	}
	if m := got["52:54:00:00:00:01"]; m["state"] != "dhcp" || m["hostname"] != "node1" || m["addr"] != "192.0.2.100" ||
		m["profile"] != "demo" || m["reason"] != "machine" || m["in_inventory"] != true || m["firmware"] != "ipxe" {
		t.Errorf("node1 = %v", m)
	}
	if m := got["52:54:00:00:00:02"]; m["state"] != "unseen" || m["hostname"] != "node2" || m["profile"] != nil ||
		!strings.Contains(m["reason"].(string), "no group matched") {
		t.Errorf("node2 = %v", m)
	}
	if m := got["02:00:00:00:00:09"]; m["state"] != "discovered" || m["in_inventory"] != false || m["detail"] == nil {
		t.Errorf("stranger = %v", m)
	}
}

func TestMachineAndErrors(t *testing.T) {
	f := newFixture(t)
	f.tl.Emit(events.Event{MAC: mustMAC("52:54:00:00:00:01"), Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER", Class: "ipxe"})
	code, body := f.do(t, "GET", "/api/v1/machines/52-54-00-00-00-01", "")
	if code != 200 || body["mac"] != "52:54:00:00:00:01" || len(body["events"].([]any)) != 1 {
		t.Errorf("machine: %d %v", code, body)
	}
	code, body = f.do(t, "GET", "/api/v1/machines/52:54:00:00:00:02", "")
	if code != 200 || body["state"] != "unseen" || len(body["events"].([]any)) != 0 {
		t.Errorf("unseen machine: %d %v", code, body)
	}
	for _, tt := range []struct {
		method, target, body string
		code                 int
		msg                  string
	}{
		{"GET", "/api/v1/machines/zz:zz", "", 400, `bad MAC "zz:zz"`},
		{"GET", "/api/v1/machines/02:00:00:00:00:77", "", 404, "neither in the inventory nor seen"},
		{"GET", "/api/v1/nothing", "", 404, "no such API path: /api/v1/nothing"},
		{"GET", "/api/v2/machines", "", 404, "no such API path"},
		{"DELETE", "/api/v1/machines", "", 405, "DELETE is not allowed"},
		{"PUT", "/api/v1/report", "", 405, "PUT is not allowed"},
		{"GET", "/api/v1/report?mac=52:54:00:00:00:01&state=up", "", 400, `state "up" is not booted or failed`},
		{"GET", "/api/v1/report?state=booted", "", 400, "bad mac"},
		{"POST", "/api/v1/report", "{nope", 400, "JSON body cannot be read"},
	} {
		code, body := f.do(t, tt.method, tt.target, tt.body)
		if code != tt.code || body["status"] != float64(tt.code) || !strings.Contains(body["error"].(string), tt.msg) {
			t.Errorf("%s %s: %d %v, want %d with %q", tt.method, tt.target, code, body, tt.code, tt.msg)
		}
	}
}

func TestReport(t *testing.T) {
	f := newFixture(t)
	mac := mustMAC("52:54:00:00:00:01")
	f.tl.Emit(events.Event{MAC: mac, Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER", Class: "ipxe"})
	if code, body := f.do(t, "GET", "/api/v1/report?mac=52:54:00:00:00:01&state=booted&detail=up+in+3s", ""); code != 200 || body["state"] != "booted" {
		t.Fatalf("report: %d %v", code, body)
	}
	m, _ := f.tl.Machine(mac)
	if m.State != timeline.StateBooted || m.Detail != "up in 3s" {
		t.Errorf("after a GET report: %q %q", m.State, m.Detail)
	}
	f.do(t, "POST", "/api/v1/report", `{"mac":"52:54:00:00:00:01","state":"failed","detail":"no disk"}`)
	f.do(t, "POST", "/api/v1/report", "mac=52:54:00:00:00:01&state=failed&detail=still+no+disk")
	m, _ = f.tl.Machine(mac)
	if m.State != timeline.StateFailed || m.Detail != "still no disk" || m.Events[1].Addr != "192.0.2.100" {
		t.Errorf("after POST reports: %q %q %v", m.State, m.Detail, m.Events)
	}
}

func TestLeases(t *testing.T) {
	code, body := newFixture(t).do(t, "GET", "/api/v1/leases", "")
	sn := body["subnets"].([]any)
	if code != 200 || body["serving"] != true || len(sn) != 1 || sn[0].(map[string]any)["free"] != float64(100) {
		t.Errorf("leases: %d %v", code, body)
	}
}

func TestEventStream(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if l := <-lines; l != "retry: 3000" {
		t.Fatalf("first line %q", l)
	}
	f.tl.Emit(events.Event{MAC: mustMAC("52:54:00:00:00:01"), Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER", Class: "ipxe"})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if data, ok := strings.CutPrefix(l, "data: "); ok {
				var c timeline.Change
				if err := json.Unmarshal([]byte(data), &c); err != nil || c.Machine.State != timeline.StateDHCP || c.Event.Reply != "OFFER" {
					t.Errorf("change %s: %v", data, err)
				}
				f.api.Shutdown()
				for range lines {
				}
				return
			}
		case <-timeout:
			t.Fatal("no change within 10 s")
		}
	}
}

func mustMAC(s string) events.MAC {
	m, err := events.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}
