package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/rackboot/rackboot/api"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/testinv"
	"github.com/rackboot/rackboot/timeline"
)

func TestStatusCommand(t *testing.T) {
	tl, err := timeline.New(timeline.Config{})
	if err != nil {
		t.Fatal(err)
	}
	inv := boot.NewInventory(testinv.Parse(t, "profiles: {demo: {kernel: vmlinuz}}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", hostname: node1, profile: demo}\n  - {mac: \"52:54:00:00:00:02\", hostname: node2, profile: demo}\n"))
	mux := http.NewServeMux()
	api.New(api.Options{Timeline: tl, Reports: tl, Inventory: func() *boot.Inventory { return inv }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mac, _ := events.ParseMAC("52:54:00:00:00:01")
	tl.Emit(events.Event{MAC: mac, Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER", Class: "pxe", HasArch: true, Arch: 7,
		Addr: netip.MustParseAddr("192.0.2.50"), BootFile: "ipxe.efi", Profile: "demo", Via: "machine"})
	tl.Emit(events.Event{Kind: events.KindTFTP, Addr: netip.MustParseAddr("192.0.2.50"), File: "ipxe.efi", Error: "file not found"})

	run := func(args ...string) (string, error) {
		cmd := newRootCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append(args, "--server", srv.URL))
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run("status")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "MAC ") {
		t.Fatalf("status:\n%s", out)
	}
	for _, want := range []string{"52:54:00:00:00:01", "node1", "dhcp", "pxe/7", "192.0.2.50", "demo (machine)"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("line %q lacks %q", lines[1], want)
		}
	}
	if !strings.Contains(lines[2], "unseen") || !strings.Contains(lines[2], "node2") {
		t.Errorf("unseen machine line %q", lines[2])
	}
	out, err = run("status", "52-54-00-00-00-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"last error:", "tftp ipxe.efi: file not found", "DISCOVER pxe arch 7", "OFFER 192.0.2.50 boot ipxe.efi profile demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("status MAC lacks %q:\n%s", want, out)
		}
	}
	refusedMAC, _ := events.ParseMAC("52:54:00:00:00:02")
	for _, ev := range []events.Event{
		{MAC: refusedMAC, Kind: events.KindDHCP, Message: "REQUEST", Reply: "ACK", Class: "pxe", BootFile: "ipxe.efi", Loader: "ipxe"},
		{MAC: refusedMAC, Kind: events.KindDHCP, Message: "DISCOVER", Reply: "OFFER", Class: "httpboot"},
	} {
		tl.Emit(ev)
	}
	out, err = run("status", "52:54:00:00:00:02")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"refused iPXE:  1 time(s), last", "(ipxe.efi); loader auto gives it the signed chain until iPXE runs there",
		"DISCOVER httpboot  firmware refused iPXE: asked again"} {
		if !strings.Contains(out, want) {
			t.Errorf("status MAC of a refusing machine lacks %q:\n%s", want, out)
		}
	}
	if _, err := run("status", "nope"); err == nil || !strings.Contains(err.Error(), "not a MAC") {
		t.Errorf("bad MAC: %v", err)
	}
	if _, err := run("status", "02:00:00:00:00:99"); err == nil || !strings.Contains(err.Error(), "neither in the inventory nor seen") {
		t.Errorf("unknown MAC: %v", err)
	}
}
