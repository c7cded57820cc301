// Package atomicfile replaces a file so that a crash at any moment leaves
// either the old content or the new one, never a mix.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces name with data: a temporary file in the same folder
// (created when missing, mode 0750), written and synced, renamed over
// name, then the folder synced so that the rename itself is durable.
func Write(name string, data []byte) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // nothing left to remove after the rename
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
