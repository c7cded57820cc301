package assets

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"
)

// generated is a file the store makes itself, once, on first use.
type generated struct {
	make func(s *Store) ([]byte, error)
	mu   sync.Mutex
	data []byte
	at   time.Time
}

// WithGenerated returns a copy of s that also serves name, made by mk the
// first time it is opened (mk may open other files through the store it is
// given) and kept; a failure is returned and tried again at the next open.
// A file of that name in the assets folder comes first.
func (s *Store) WithGenerated(name string, mk func(s *Store) ([]byte, error)) *Store {
	c := *s
	c.generated = map[string]*generated{}
	for k, v := range s.generated {
		c.generated[k] = v
	}
	c.generated[name] = &generated{make: mk}
	return &c
}

// openGenerated opens a generated file, making it when needed.
func (s *Store) openGenerated(g *generated, rel string) (*File, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.data == nil {
		data, err := g.make(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %w", rel, err, ErrNotFound)
		}
		g.data, g.at = data, time.Now()
	}
	return &File{ReadSeeker: bytes.NewReader(g.data), Closer: noClose{}, Name: rel, Size: int64(len(g.data)), ModTime: g.at}, nil
}

// ReadAll opens name and reads it whole.
func (s *Store) ReadAll(name string) ([]byte, error) {
	f, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// noClose is the Closer of a file held in memory.
type noClose struct{}

func (noClose) Close() error { return nil }
