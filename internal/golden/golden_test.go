package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct{ want, got, diff string }{
		{"a\nb", "a\nb", ""},
		{"a\nb", "a\nc", "-b\n+c\n"},
		{"a", "a\nb", "+b\n"},
		{"a\nb", "a", "-b\n"},
	}
	for _, tt := range tests {
		if d := Diff(tt.want, tt.got); d != tt.diff {
			t.Errorf("Diff(%q, %q) = %q, want %q", tt.want, tt.got, d, tt.diff)
		}
	}
}

// TestCheckUpdate writes with UPDATE_GOLDEN set and then compares equal.
func TestCheckUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	t.Setenv("UPDATE_GOLDEN", "1")
	Check(t, path, []byte("hello\n"))
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello\n" {
		t.Fatalf("golden file = %q, %v", b, err)
	}
	os.Unsetenv("UPDATE_GOLDEN")
	Check(t, path, []byte("hello\n"))
}
