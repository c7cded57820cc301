package api

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcpwire"
	"github.com/rackboot/rackboot/discovery"
	"github.com/rackboot/rackboot/internal/testinv"
)

// TestDiscoveredState: a discovered machine is listed with its record and
// state discovered, ?state=discovered keeps only such machines, and once
// a rule gives it a profile (adopted) it is no longer discovered.
func TestDiscoveredState(t *testing.T) {
	reg, err := discovery.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	hw, _ := net.ParseMAC("52:54:00:00:00:09")
	req, _ := dhcpv4.NewDiscovery(hw, dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")))
	reg.Observe(req, dhcpwire.Classify(req), time.Now())
	inv := boot.NewInventory(testinv.Parse(t, inventory))
	a := New(Options{Inventory: func() *boot.Inventory { return inv }, Discovered: reg})
	mux := http.NewServeMux()
	a.Register(mux)
	f := &fixture{api: a, mux: mux}

	code, body := f.do(t, "GET", "/api/v1/machines?state=discovered", "")
	ms, _ := body["machines"].([]any)
	if code != 200 || len(ms) != 1 {
		t.Fatalf("?state=discovered: %d %v", code, body)
	}
	m := ms[0].(map[string]any)
	rec, _ := m["discovered"].(map[string]any)
	if m["mac"] != "52:54:00:00:00:09" || m["state"] != "discovered" || rec == nil || rec["vendor_class"] != "PXEClient:Arch:00000:UNDI:002001" {
		t.Errorf("discovered machine: %v", m)
	}
	if _, body := f.do(t, "GET", "/api/v1/machines", ""); len(body["machines"].([]any)) != 3 {
		t.Errorf("all machines: %v, want the inventory's two and the discovered one", body)
	}
	inv = boot.NewInventory(testinv.Parse(t, inventory+"  - {mac: \"52:54:00:00:00:09\", profile: demo}\n"))
	if _, body := f.do(t, "GET", "/api/v1/machines?state=discovered", ""); len(body["machines"].([]any)) != 0 {
		t.Errorf("an adopted machine is still discovered: %v", body)
	}
	if code, body := f.do(t, "GET", "/api/v1/machines/52:54:00:00:00:09", ""); code != 200 || body["discovered"] == nil || body["profile"] != "demo" || body["state"] == "discovered" {
		t.Errorf("the adopted machine: %d %v", code, body)
	}
}
