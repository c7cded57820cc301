// Package logx holds the one rule rackboot's constructors share for an
// injected logger: nil means "log nothing".
package logx

import (
	"io"

	"github.com/sirupsen/logrus"
)

// OrDiscard returns l, or a logger that writes nowhere when l is nil.
func OrDiscard(l logrus.FieldLogger) logrus.FieldLogger {
	if l != nil {
		return l
	}
	d := logrus.New()
	d.SetOutput(io.Discard)
	return d
}
