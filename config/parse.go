package config

import (
	"bytes"
	_ "embed"
	"errors"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults for keys that are absent from the inventory.
const (
	DefaultHTTPPort  = 8080
	DefaultTFTPPort  = 69
	DefaultDataDir   = "/var/lib/rackboot"
	DefaultMode      = ModeFull
	DefaultLeaseTime = Duration(time.Hour)
	DefaultTimeout   = Duration(10 * time.Second)
)

// EmbeddedName is the File of the Config that Default returns.
const EmbeddedName = "(embedded default)"

//go:embed default.yaml
var defaultYAML []byte

// Load reads the inventory at path and parses it; errors name the path as
// given.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Default returns the built-in inventory: DHCP in full mode on a subnet
// derived from the interface, and a menu offering local disk boot and the
// iPXE shell. It panics only if the embedded file is invalid, which the
// package tests rule out.
func Default() *Config {
	cfg, err := Parse(EmbeddedName, defaultYAML)
	if err != nil {
		panic("config: embedded default inventory is invalid:\n" + err.Error())
	}
	return cfg
}

// Parse decodes and validates one inventory. file names the inventory in
// error messages and is stored in Config.File. Absent keys get their
// defaults and the derived fields are filled. On failure Parse returns a nil
// Config and an Errors listing every problem found, sorted by line.
func Parse(file string, data []byte) (*Config, error) {
	root, err := parseYAML(file, data)
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
	if err := errs.asError(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// nearAny reports whether a problem at path is likely a consequence of a
// decoding error at one of suspect, because their paths lie inside one
// another.
func nearAny(path string, suspect []string) bool {
	for _, s := range suspect {
		if related(path, s) {
			return true
		}
	}
	return false
}

// yamlLine extracts the line from a YAML syntax error.
var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// parseYAML returns the top-level mapping of the single document in data.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, docError(file, 1, "the inventory is empty; it must be a mapping with keys such as server, dhcp, profiles and machines")
	}
	if err != nil {
		return nil, syntaxError(file, err)
	}
	if err := checkSingleDocument(file, dec); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, docError(file, 1, "the inventory is empty")
	}
	root := doc.Content[0]
	if root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	switch {
	case root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null":
		return nil, docError(file, root.Line, "the inventory is empty; it must be a mapping with keys such as server, dhcp, profiles and machines")
	case root.Kind != yaml.MappingNode:
		return nil, docError(file, root.Line, "the inventory must be a mapping (key: value), got "+describe(root))
	}
	return root, nil
}

// checkSingleDocument reports documents after the first one, other than
// empty ones.
func checkSingleDocument(file string, dec *yaml.Decoder) error {
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return syntaxError(file, err)
		case len(next.Content) > 0 && next.Content[0].ShortTag() != "!!null":
			return docError(file, next.Content[0].Line, "the inventory must be a single YAML document, found a second one")
		}
	}
}

// docError is a problem with the document as a whole.
func docError(file string, line int, msg string) error {
	return Errors{{File: file, Line: line, Msg: msg}}
}

// syntaxError turns a YAML parser error into an Errors with its line.
func syntaxError(file string, err error) error {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
	}
	return docError(file, line, "YAML syntax: "+msg)
}

// setDefaults fills the defaults of the top-level sections.
func (c *Config) setDefaults() {
	c.Server.HTTPPort = DefaultHTTPPort
	c.Server.TFTPPort = DefaultTFTPPort
	c.Server.DataDir = DefaultDataDir
	c.DHCP.Mode = DefaultMode
}

// setDefaults fills a subnet's defaults.
func (s *Subnet) setDefaults() { s.LeaseTime = DefaultLeaseTime }

// setDefaults fills a menu's defaults.
func (m *Menu) setDefaults() { m.Timeout = DefaultTimeout }
