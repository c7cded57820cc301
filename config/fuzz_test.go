package config

import (
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, and that it returns either a
// Config or an error, never both or neither.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/example.yaml", "default.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("machines:\n  - &m {mac: 52:54:00:00:00:01}\n  - <<: *m\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned cfg=%v err=%v", cfg, err)
		}
	})
}
