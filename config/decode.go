package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the nodes one document may expand to through aliases, so
// that a small file cannot make Parse do unbounded work.
const maxNodes = 1 << 18

// defaulter is implemented by the types that have default values; the
// decoder calls setDefaults on every new value before filling it, so that
// absent keys keep their defaults.
type defaulter interface{ setDefaults() }

// decoder fills Go values from a YAML node tree, strictly: every key must
// name a field and every value must have the field's type. It records the
// line of every path it visits, for the errors of later checks.
type decoder struct {
	file  string
	lines map[string]int
	errs  Errors
	nodes int
	// suspect lists the paths whose later validation errors are likely
	// consequences of a decoding error.
	suspect []string
}

// newDecoder returns a decoder whose errors name file.
func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: map[string]int{}}
}

// errorf records an error at path on line.
func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.suspect = append(d.suspect, path)
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases and counts n against the node budget; it returns
// nil once the budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	d.nodes++
	if d.nodes == maxNodes {
		d.errorf(n.Line, "", "document expands to more than %d nodes through aliases", maxNodes)
	}
	if d.nodes >= maxNodes {
		return nil
	}
	return n
}

// decode fills v, which must be settable, from n. The path names v in
// errors; line is where its key was written.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, line int) {
	n = d.resolve(n)
	if n == nil {
		return
	}
	d.lines[path] = line
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // absent: keep the default
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			d.errorf(n.Line, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Pointer:
		d.decodePointer(n, v, path, line)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String, reflect.Int, reflect.Bool:
		d.decodeScalar(n, v, path)
	default:
		d.errorf(n.Line, path, "internal error: cannot decode into %s", v.Type())
	}
}

// newValue returns a new settable value of type t with its defaults set.
func newValue(t reflect.Type) reflect.Value {
	p := reflect.New(t)
	if def, ok := p.Interface().(defaulter); ok {
		def.setDefaults()
	}
	return p.Elem()
}

// decodePointer allocates the value v points to and fills it.
func (d *decoder) decodePointer(n *yaml.Node, v reflect.Value, path string, line int) {
	elem := newValue(v.Type().Elem())
	d.decode(n, elem, path, line)
	v.Set(elem.Addr())
}

// decodeStruct fills the fields of v from the mapping n, reporting keys
// that name no field.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectKind(n, yaml.MappingNode, path) {
		return
	}
	fields := fieldsByKey(v.Type())
	for _, kv := range d.pairs(n, path) {
		kpath := keyPath(path, kv.name)
		i, ok := fields[kv.name]
		if !ok {
			d.errorf(kv.key.Line, kpath, "unknown key%s", suggest(kv.name, fields))
			if path != "" {
				d.suspect = append(d.suspect, path) // a misspelt sibling is missing
			}
			continue
		}
		d.decode(kv.value, v.Field(i), kpath, kv.key.Line)
	}
}

// decodeMap fills the map v from the mapping n; any key is allowed.
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectKind(n, yaml.MappingNode, path) {
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, kv := range d.pairs(n, path) {
		elem := newValue(v.Type().Elem())
		d.decode(kv.value, elem, keyPath(path, kv.name), kv.key.Line)
		m.SetMapIndex(reflect.ValueOf(kv.name).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

// decodeSlice fills the slice v from the sequence n.
func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectKind(n, yaml.SequenceNode, path) {
		return
	}
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		elem := newValue(v.Type().Elem())
		d.decode(item, elem, indexPath(path, i), item.Line)
		s = reflect.Append(s, elem)
	}
	v.Set(s)
}

// decodeScalar fills a string, int or bool from the scalar n.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectKind(n, yaml.ScalarNode, path) {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return
	case reflect.Int:
		var i int
		if n.ShortTag() == "!!int" && n.Decode(&i) == nil {
			v.SetInt(int64(i))
			return
		}
		d.errorf(n.Line, path, "expected a whole number, got %q", n.Value)
	case reflect.Bool:
		var b bool
		if n.ShortTag() == "!!bool" && n.Decode(&b) == nil {
			v.SetBool(b)
			return
		}
		d.errorf(n.Line, path, "expected true or false, got %q", n.Value)
	}
}

// expectKind reports whether n is of kind want, recording an error if not.
func (d *decoder) expectKind(n *yaml.Node, want yaml.Kind, path string) bool {
	if n.Kind == want {
		return true
	}
	d.errorf(n.Line, path, "expected %s, got %s", kindName(want), describe(n))
	return false
}

// kindName names a node kind for messages.
func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping (key: value)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "a YAML document"
}

// describe names what n is, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// pair is one key: value of a mapping.
type pair struct {
	name       string
	key, value *yaml.Node
}

// pairs returns the entries of the mapping n, with YAML merge keys ("<<")
// applied: keys written in n win over merged ones, and earlier merge
// sources win over later ones. Duplicate and non-string keys are reported
// and dropped.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	return d.mergePairs(n, path, map[*yaml.Node]bool{})
}

// mergePairs is pairs, with active holding the mappings being merged so
// that a mapping merging itself is caught.
func (d *decoder) mergePairs(n *yaml.Node, path string, active map[*yaml.Node]bool) []pair {
	active[n] = true
	defer delete(active, n)
	var own []pair
	var merges []*yaml.Node
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge" {
			merges = append(merges, value)
			continue
		}
		if key.Kind != yaml.ScalarNode {
			d.errorf(key.Line, path, "keys must be plain strings, got %s", describe(key))
			continue
		}
		if line, dup := first[key.Value]; dup {
			d.errorf(key.Line, keyPath(path, key.Value), "duplicate key (first set on line %d)", line)
			continue
		}
		first[key.Value] = key.Line
		own = append(own, pair{name: key.Value, key: key, value: value})
	}
	for _, m := range merges {
		for _, kv := range d.mergeSource(m, path, active) {
			if _, set := first[kv.name]; !set {
				first[kv.name] = kv.key.Line
				own = append(own, kv)
			}
		}
	}
	return own
}

// mergeSource returns the entries a merge key's value brings: a mapping, or
// a list of mappings.
func (d *decoder) mergeSource(m *yaml.Node, path string, active map[*yaml.Node]bool) []pair {
	line := m.Line
	if m = d.resolve(m); m == nil {
		return nil
	}
	sources := []*yaml.Node{m}
	if m.Kind == yaml.SequenceNode {
		sources = nil
		for _, item := range m.Content {
			if item = d.resolve(item); item != nil {
				sources = append(sources, item)
			}
		}
	}
	var out []pair
	for _, s := range sources {
		switch {
		case s.Kind != yaml.MappingNode:
			d.errorf(line, path, "<< must merge a mapping or a list of mappings, got %s", describe(s))
		case active[s]:
			d.errorf(line, path, "<< merges a mapping into itself")
		default:
			out = append(out, d.mergePairs(s, path, active)...)
		}
	}
	return out
}

// fieldsByKey maps the YAML keys of struct type t to field indexes.
func fieldsByKey(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
		}
	}
	return fields
}

// suggest returns "; did you mean ..." for an unknown key close to a known
// one, or the list of known keys.
func suggest(key string, fields map[string]int) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(key), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
