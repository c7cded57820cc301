package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// TestWatchFile: edits in place, an editor's write-and-rename, and an
// invalid edit each reach the running inventory (or are refused) within
// 2 s; a save in several writes reloads once.
func TestWatchFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rackboot.yaml")
	base := "dhcp: {mode: off}\nprofiles:\n  disk: {local: true}\n"
	withMachine := func(mac string) string {
		return base + "machines:\n  - {mac: \"" + mac + "\", profile: disk}\n"
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(file, []byte(base), 0o644))
	cfg, err := config.Load(file)
	must(err)
	var inv atomic.Pointer[boot.Inventory]
	inv.Store(boot.NewInventory(cfg))
	log := logrus.New()
	log.SetOutput(io.Discard)
	r := newReloader(&inv, overrides{}, log, []byte(base))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(watchFile(ctx, file, r, log))

	has := func(mac string) func() bool {
		return func() bool { return inv.Load().Machine(mustMAC(t, mac)) != nil }
	}
	within := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 2*time.Second {
			if cond() {
				t.Logf("%s after %s", what, time.Since(start).Round(time.Millisecond))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: not within 2 s; status %+v", what, r.Status())
	}

	// In place, in three writes (truncate, then two halves).
	content := withMachine("52:54:00:00:00:01")
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	must(err)
	f.WriteString(content[:20])
	f.Sync()
	f.WriteString(content[20:])
	must(f.Close())
	within("edit in place applied", has("52:54:00:00:00:01"))
	time.Sleep(2 * watchDebounce)
	if n := r.Status().Reloads; n != 1 {
		t.Errorf("a save in several writes reloaded %d times, want 1", n)
	}

	// Write a temporary file and rename it over the inventory (vim,
	// sed -i, config management).
	tmp := filepath.Join(dir, ".rackboot.yaml.swp")
	must(os.WriteFile(tmp, []byte(withMachine("52:54:00:00:00:02")), 0o644))
	must(os.Rename(tmp, file))
	within("rename over the file applied", has("52:54:00:00:00:02"))

	// An invalid edit is refused, with file:line, and the running
	// inventory stays.
	before := inv.Load()
	must(os.WriteFile(file, []byte(withMachine("52:54:00:zz:00:03")), 0o644))
	within("invalid edit refused", func() bool { return r.Status().LastError != nil })
	if e := r.Status().LastError.Errors; len(e) != 1 || !strings.HasPrefix(e[0], file+":5: machines[0].mac") {
		t.Errorf("refusal errors = %q, want one at %s:5 machines[0].mac", e, file)
	}
	if inv.Load() != before {
		t.Error("an invalid edit replaced the running inventory")
	}

	// Fixing it applies and clears the error; other files in the folder
	// are ignored.
	must(os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("x: ["), 0o644))
	must(os.WriteFile(file, []byte(withMachine("52:54:00:00:00:04")), 0o644))
	within("fixed edit applied", has("52:54:00:00:00:04"))
	if st := r.Status(); st.LastError != nil || st.Reloads != 3 {
		t.Errorf("after the fix: last_error %+v, reloads %d (want nil, 3)", st.LastError, st.Reloads)
	}
}
