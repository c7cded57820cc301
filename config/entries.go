package config

import (
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultData is the embedded default inventory's text (see Default).
func DefaultData() []byte { return defaultYAML }

// ParseWithEntries parses the inventory file data, with more machines and
// profiles from a second document, entries (the admin API's entries, a
// JSON or YAML mapping with the keys machines and profiles only), added
// after the file's own as if they had been written there: they are
// decoded, defaulted and validated by the same code, and take part in
// the same selection. The caller keeps names and MACs of the file out of
// entries (the file wins).
//
// Errors in entries name entriesName and the key path inside entries
// (machines[0].profile: ...); errors in the file name file.
func ParseWithEntries(file string, data []byte, entriesName string, entries []byte) (*Config, error) {
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	extra, err := parseYAML(entriesName, entries)
	if err != nil {
		return nil, err
	}
	nMachines, err := merge(root, extra, entriesName)
	if err != nil {
		return nil, err
	}
	cfg := &Config{File: file}
	cfg.setDefaults()
	d := newDecoder(file)
	d.decode(root, reflect.ValueOf(cfg).Elem(), "", root.Line)
	errs := d.errs
	for _, e := range validate(cfg, file, d.lines) {
		if !nearAny(e.Path, d.suspect) {
			errs = append(errs, e)
		}
	}
	apiProfiles := map[string]bool{}
	if p := mapValue(extra, "profiles"); p != nil {
		for i := 0; i+1 < len(p.Content); i += 2 {
			apiProfiles[p.Content[i].Value] = true
		}
	}
	for _, e := range errs {
		if p, ok := entryPath(e.Path, nMachines, apiProfiles); ok {
			e.File, e.Path = entriesName, p
		}
	}
	if err := errs.asError(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// merge appends extra's machines and profiles to root's; it returns how
// many machines root had.
func merge(root, extra *yaml.Node, name string) (int, error) {
	for i := 0; i+1 < len(extra.Content); i += 2 {
		if k := extra.Content[i].Value; k != "machines" && k != "profiles" {
			return 0, docError(name, extra.Content[i].Line, "only machines and profiles can be added, not "+strconv.Quote(k))
		}
	}
	n := 0
	if m := mapValue(root, "machines"); m != nil && m.Kind == yaml.SequenceNode {
		n = len(m.Content)
	}
	for _, key := range []string{"machines", "profiles"} {
		add := mapValue(extra, key)
		if add == nil || len(add.Content) == 0 {
			continue
		}
		have := mapValue(root, key)
		if have == nil || (have.Kind == yaml.ScalarNode && have.ShortTag() == "!!null") {
			if have != nil {
				root.Content = deleteValue(root.Content, have)
			}
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: add.Line},
				&yaml.Node{Kind: add.Kind, Tag: add.Tag, Line: add.Line})
			have = root.Content[len(root.Content)-1]
		}
		if have.Kind != add.Kind {
			return 0, docError(name, add.Line, key+" has another type in the file")
		}
		have.Content = append(have.Content, add.Content...)
	}
	return n, nil
}

// deleteValue drops the key and value pair whose value is v.
func deleteValue(content []*yaml.Node, v *yaml.Node) []*yaml.Node {
	for i := 1; i < len(content); i += 2 {
		if content[i] == v {
			return append(content[:i-1], content[i+1:]...)
		}
	}
	return content
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// entryPath turns the path of a merged entry into its path inside the
// entries document: machines[n+i] is machines[i] there; profiles.NAME
// stays. ok is false for paths in the file.
func entryPath(p string, n int, profiles map[string]bool) (string, bool) {
	if rest, ok := strings.CutPrefix(p, "machines["); ok {
		i, after, found := strings.Cut(rest, "]")
		idx, err := strconv.Atoi(i)
		if !found || err != nil || idx < n {
			return p, false
		}
		return "machines[" + strconv.Itoa(idx-n) + "]" + after, true
	}
	if rest, ok := strings.CutPrefix(p, "profiles."); ok {
		name, _, _ := strings.Cut(rest, ".")
		return p, profiles[name]
	}
	return p, false
}
