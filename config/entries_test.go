package config

import (
	"errors"
	"strings"
	"testing"
)

// TestParseWithEntries: entries join the file's machines and profiles,
// pass the same validation, and their errors name the entries document
// and the path inside it.
func TestParseWithEntries(t *testing.T) {
	file := "dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: disk}\n"
	ok := `{"machines": [{"mac": "52:54:00:00:00:02", "profile": "api", "labels": {"rack": "r1"}}], "profiles": {"api": {"shell": true}}}`
	cfg, err := ParseWithEntries("f.yaml", []byte(file), "api", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Machines) != 2 || cfg.Machines[1].HWAddr.String() != "52:54:00:00:00:02" || cfg.Machines[1].Labels["rack"] != "r1" {
		t.Errorf("machines = %+v", cfg.Machines)
	}
	if p, ok := cfg.Profiles["api"]; !ok || !p.Shell || len(cfg.Profiles) != 2 {
		t.Errorf("profiles = %+v", cfg.Profiles)
	}
	// A file without machines or profiles sections, and an empty one.
	if cfg, err := ParseWithEntries("f.yaml", []byte("dhcp: {mode: off}\nmachines:\n"), "api", []byte(ok)); err != nil || len(cfg.Machines) != 1 {
		t.Errorf("file without machines: %v %+v", err, cfg)
	}
	tests := []struct {
		entries string
		want    []string
	}{
		{`{"machines": [{"mac": "52:54:00:zz:00:02", "profile": "disk"}]}`, []string{`api:1: machines[0].mac: "52:54:00:zz:00:02" is not a MAC address`}},
		{`{"machines": [{"mac": "52:54:00:00:00:03", "profile": "nope"}]}`, []string{`api:1: machines[0].profile: `}},
		{`{"machines": [{"mac": "52:54:00:00:00:03", "profil": "disk"}]}`, []string{`api:1: machines[0].profil: `}},
		{`{"profiles": {"two": {"shell": true, "local": true}}}`, []string{`api:1: profiles.two`}},
		{`{"server": {"http_port": 1}}`, []string{`api:1: only machines and profiles can be added, not "server"`}},
	}
	for _, tt := range tests {
		_, err := ParseWithEntries("f.yaml", []byte(file), "api", []byte(tt.entries))
		var es Errors
		if !errors.As(err, &es) || len(es) != len(tt.want) {
			t.Errorf("%s: got %v, want %d errors", tt.entries, err, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.HasPrefix(es[i].Error(), w) {
				t.Errorf("%s: error %q, want it to start with %q", tt.entries, es[i], w)
			}
		}
	}
}

// FuzzParseWithEntries: any entries document (the admin API's bodies end
// up in one) is merged and checked without panicking; an accepted one
// keeps the file's own machine first.
func FuzzParseWithEntries(f *testing.F) {
	file := []byte("dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\nmachines:\n  - {mac: \"52:54:00:00:00:01\", profile: disk}\n")
	f.Add([]byte(`{"machines": [{"mac": "52:54:00:00:00:02", "profile": "disk"}], "profiles": {"x": {"shell": true}}}`))
	f.Add([]byte(`{"profiles": {"y": {"menu": {"items": ["disk"]}}}}`))
	f.Add([]byte(`machines: [{mac: 1}]`))
	f.Fuzz(func(t *testing.T, entries []byte) {
		cfg, err := ParseWithEntries("f.yaml", file, "api", entries)
		if err == nil && (len(cfg.Machines) == 0 || cfg.Machines[0].MAC != "52:54:00:00:00:01") {
			t.Errorf("accepted, but the file's machine is not first: %+v", cfg.Machines)
		}
	})
}
