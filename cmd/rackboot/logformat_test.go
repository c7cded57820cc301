package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestLogFormat(t *testing.T) {
	for _, tt := range []struct {
		format   string
		terminal bool
		json     bool
	}{{"", true, false}, {"", false, true}, {"text", false, false}, {"json", true, true}} {
		f, err := logFormatter(tt.format, tt.terminal)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		log := logrus.New()
		log.SetOutput(&buf)
		log.SetFormatter(f)
		log.WithField("mac", "52:54:00:12:34:56").Info("dhcp offer")
		var v map[string]any
		isJSON := json.Unmarshal(buf.Bytes(), &v) == nil
		if isJSON != tt.json || isJSON && v["mac"] != "52:54:00:12:34:56" || !isJSON && !strings.Contains(buf.String(), `msg="dhcp offer" mac="52:54:00:12:34:56"`) {
			t.Errorf("format %q, terminal %v: %q", tt.format, tt.terminal, buf.String())
		}
	}
	if _, err := logFormatter("xml", true); err == nil || !strings.Contains(err.Error(), "want text or json") {
		t.Errorf("xml: %v", err)
	}
}
