package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
)

// watchDebounce is how long the watcher waits after the last event on the
// inventory file before it reads it: an editor's save is several events
// (truncate and write, or write a temporary file and rename it over).
const watchDebounce = 250 * time.Millisecond

// watchFile reloads through r whenever the file named file changes, until
// ctx ends. It watches the file's folder, not the file: editors that save
// by writing a new file and renaming it over the old one (vim, sed -i,
// atomic config management) replace the inode a file watch would follow.
// Only events on the file's own name count; each burst is debounced and
// the file is read only when its content changed (reloadChanged).
func watchFile(ctx context.Context, file string, r *reloader, log logrus.FieldLogger) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	dir, base := filepath.Split(filepath.Clean(file))
	if dir == "" {
		dir = "."
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return err
	}
	go func() {
		defer w.Close()
		debounceEvents(ctx, w, base, watchDebounce, func() { r.reloadChanged() }, log)
	}()
	return nil
}

// debounceEvents calls fire once per burst of events on base, watchDebounce
// after the last one, until ctx ends or the watcher closes.
func debounceEvents(ctx context.Context, w *fsnotify.Watcher, base string, wait time.Duration, fire func(), log logrus.FieldLogger) {
	timer := time.NewTimer(wait)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) == base && ev.Op != fsnotify.Chmod {
				timer.Reset(wait)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			log.WithError(err).Warn("reload: watching the inventory file")
		case <-timer.C:
			fire()
		}
	}
}
