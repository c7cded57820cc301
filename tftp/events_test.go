package tftp

import (
	"net/netip"
	"testing"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/rackboot/rackboot/events"
)

func TestEvents(t *testing.T) {
	dir, files := testFiles(t)
	var got events.Collector
	_, addr := startServer(t, dir, Options{Events: &got})
	if _, _, err := fetch(addr, "vmlinuz", ClientOptions{BlockSize: 1468}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fetch(addr, "nothere", ClientOptions{}); err == nil {
		t.Fatal("a missing file was served")
	}
	eventually(func() uint64 { return uint64(len(got.Events())) }, 2)
	evs := got.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(evs), evs)
	}
	ok, missing := evs[0], evs[1]
	if ok.File == "nothere" {
		ok, missing = missing, ok
	}
	if ok.Kind != events.KindTFTP || ok.File != "vmlinuz" || ok.Bytes != int64(len(files["vmlinuz"])) ||
		ok.Error != "" || ok.Addr.String() != "127.0.0.1" || ok.Duration <= 0 || !ok.MAC.IsZero() {
		t.Errorf("transfer event = %+v", ok)
	}
	if missing.File != "nothere" || missing.Error != "file not found" || missing.Status != int(ErrCodeNotFound) {
		t.Errorf("refusal event = %+v", missing)
	}
}

func TestLogLinesCarryTheMAC(t *testing.T) {
	dir, _ := testFiles(t)
	log, hook := test.NewNullLogger()
	opt := Options{Log: log, MACOf: func(a netip.Addr) string {
		if a.String() == "127.0.0.1" {
			return "52:54:00:12:34:56"
		}
		return ""
	}}
	_, addr := startServer(t, dir, opt)
	if _, _, err := fetch(addr, "vmlinuz", ClientOptions{}); err != nil {
		t.Fatal(err)
	}
	fetch(addr, "nothere", ClientOptions{})
	eventually(func() uint64 { return uint64(len(hook.AllEntries())) }, 2)
	entries := hook.AllEntries()
	if len(entries) < 2 {
		t.Fatalf("%d log lines", len(entries))
	}
	for _, e := range entries {
		if e.Data["mac"] != "52:54:00:12:34:56" {
			t.Errorf("%q has mac %v", e.Message, e.Data["mac"])
		}
	}
}
