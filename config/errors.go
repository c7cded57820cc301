package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem found in an inventory: where it is and what is wrong.
type Error struct {
	// File is the inventory's name as given to Parse.
	File string
	// Line is 1-based; 0 means unknown.
	Line int
	// Path is the key path, such as "machines[3].mac"; empty for problems
	// with the document as a whole.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats e as "file:line: path: msg", leaving out the parts that are
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one inventory, sorted by line. Parse
// returns it as its error; use errors.As to get at the individual errors.
type Errors []*Error

// Error gives one error per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortByLine orders es by line, keeping the order of errors on one line.
func (es Errors) sortByLine() {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}

// asError returns es as an error, or nil when es is empty.
func (es Errors) asError() error {
	if len(es) == 0 {
		return nil
	}
	es.sortByLine()
	return es
}
