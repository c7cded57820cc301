package config

import (
	"regexp"
	"strconv"
	"strings"
)

// plainKey matches keys that can be written in a path without quoting.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// keyPath returns the path of key inside the mapping at parent: "a.b", or
// `a["b c"]` when the key needs quoting.
func keyPath(parent, key string) string {
	if !plainKey.MatchString(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// indexPath returns the path of item i of the sequence at parent: "a[3]".
func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// within reports whether path is inner itself or lies inside it.
func within(path, inner string) bool {
	if path == inner || inner == "" {
		return true
	}
	if !strings.HasPrefix(path, inner) {
		return false
	}
	next := path[len(inner)]
	return next == '.' || next == '['
}

// related reports whether one of a and b lies inside the other.
func related(a, b string) bool { return within(a, b) || within(b, a) }

// parentPath strips the last element from path; "" for a top-level key.
func parentPath(path string) string {
	if strings.HasSuffix(path, `"]`) {
		return path[:strings.LastIndex(path, `["`)]
	}
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
