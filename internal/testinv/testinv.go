// Package testinv builds test inventories the way the server does, through
// the config parser and its validation, so that tests never fill derived
// fields by hand.
package testinv

import (
	"strings"
	"testing"

	"github.com/rackboot/rackboot/config"
)

// Parse parses yaml as an inventory file and fails the test on any error.
// Without a server section it adds one whose assets folder is a fresh
// temporary folder, so profiles may name kernel files.
func Parse(t testing.TB, yaml string) *config.Config {
	t.Helper()
	if !strings.Contains(yaml, "server:") {
		yaml = "server:\n  assets: " + t.TempDir() + "\n" + yaml
	}
	cfg, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("test inventory does not parse:\n%v", err)
	}
	return cfg
}
