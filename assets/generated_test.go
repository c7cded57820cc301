package assets

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestGenerated: a generated file is made once, from files the store
// opens, and served like any other; a failure is tried again at the next
// open; a file of the same name in the assets folder comes first.
func TestGenerated(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "part"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls, fail := 0, true
	s := New(dir, nil).WithoutEmbedded().WithSystemDir(t.TempDir()).WithGenerated("gen/made.img", func(s *Store) ([]byte, error) {
		calls++
		if fail {
			return nil, errors.New("not yet")
		}
		part, err := s.ReadAll("part")
		return append(part, "-made"...), err
	})
	if s.Has("gen/made.img") {
		t.Fatal("Has is true while making the file fails")
	}
	fail = false
	for i := 0; i < 2; i++ {
		got, err := s.ReadAll("gen/made.img")
		if err != nil || string(got) != "abc-made" {
			t.Fatalf("open %d: %q, %v", i, got, err)
		}
	}
	if calls != 2 {
		t.Errorf("made %d times, want 2 (one failure, then kept)", calls)
	}
	if err := os.MkdirAll(filepath.Join(dir, "gen"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen", "made.img"), []byte("own"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ReadAll("gen/made.img"); string(got) != "own" {
		t.Errorf("the assets folder's own file does not come first: %q", got)
	}
	if s.Has("gen/other.img") {
		t.Error("a name never generated is there")
	}
}
