package admin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStore: entries survive a new Open; a save leaves no temporary
// file; a damaged file is an error that names it; Doc leaves out what the
// file defines and lists the machines in MAC order.
func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir)
	if err != nil || len(s.Entries().Machines) != 0 {
		t.Fatalf("Open on a missing folder: %v %+v", err, s)
	}
	e := s.Entries()
	e.Machines["52:54:00:00:00:02"] = json.RawMessage(`{"mac":"52:54:00:00:00:02","profile":"p"}`)
	e.Machines["52:54:00:00:00:01"] = json.RawMessage(`{"mac":"52:54:00:00:00:01"}`)
	e.Profiles["p"] = json.RawMessage(`{"shell":true}`)
	if err := s.Save(e); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	var p bytes.Buffer
	if err == nil {
		json.Compact(&p, s2.Entries().Profiles["p"])
	}
	if err != nil || len(s2.Entries().Machines) != 2 || p.String() != `{"shell":true}` {
		t.Fatalf("reopened: %v %+v", err, s2.Entries())
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || files[0].Name() != FileName {
		t.Errorf("files after save: %v, want only %s", files, FileName)
	}
	doc, macs := e.Doc(map[string]bool{"52:54:00:00:00:01": true}, nil)
	if len(macs) != 1 || macs[0] != "52:54:00:00:00:02" || strings.Contains(string(doc), "00:01") || !json.Valid(doc) {
		t.Errorf("Doc: %s %v", doc, macs)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("{"), 0o640)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), FileName) {
		t.Errorf("damaged file: %v", err)
	}
}
