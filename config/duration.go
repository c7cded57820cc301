package config

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML accepts a Go duration string ("1h", "90s", "1m30s") or a
// whole number of seconds (90).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration such as \"90s\" or \"1h\", got %s", describe(n))
	}
	if n.ShortTag() == "!!int" {
		return d.setSeconds(n)
	}
	v, err := time.ParseDuration(n.Value)
	if n.ShortTag() != "!!str" || err != nil {
		return fmt.Errorf("%q is not a duration: use a number with a unit (\"90s\", \"10m\", \"1h\") or a whole number of seconds", n.Value)
	}
	*d = Duration(v)
	return nil
}

// setSeconds sets d from a YAML integer counting seconds.
func (d *Duration) setSeconds(n *yaml.Node) error {
	var secs int64
	if err := n.Decode(&secs); err != nil {
		return fmt.Errorf("%q is not a whole number of seconds", n.Value)
	}
	if secs > math.MaxInt64/int64(time.Second) || secs < math.MinInt64/int64(time.Second) {
		return fmt.Errorf("%s seconds is too long a duration", strconv.FormatInt(secs, 10))
	}
	*d = Duration(time.Duration(secs) * time.Second)
	return nil
}

// MarshalYAML writes d as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String formats d like time.Duration does ("1h0m0s").
func (d Duration) String() string { return time.Duration(d).String() }
