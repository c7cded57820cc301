package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationUnmarshal(t *testing.T) {
	tests := []struct {
		src     string
		want    time.Duration
		wantErr string
	}{
		{src: "1h", want: time.Hour},
		{src: "90s", want: 90 * time.Second},
		{src: "1m30s", want: 90 * time.Second},
		{src: "90", want: 90 * time.Second},
		{src: "0", want: 0},
		{src: "-5", want: -5 * time.Second},
		{src: "0x10", want: 16 * time.Second},
		{src: `"90"`, wantErr: `"90" is not a duration`},
		{src: "1.5", wantErr: `"1.5" is not a duration`},
		{src: "forever", wantErr: `"forever" is not a duration`},
		{src: "true", wantErr: `"true" is not a duration`},
		{src: "[1]", wantErr: `expected a duration such as "90s" or "1h", got a list`},
		{src: "99999999999999", wantErr: `99999999999999 seconds is too long a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			var d Duration
			err := yaml.Unmarshal([]byte(tt.src), &d)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			case time.Duration(d) != tt.want:
				t.Errorf("got %v, want %v", time.Duration(d), tt.want)
			}
		})
	}
}

func TestDurationInInventory(t *testing.T) {
	cfg := mustParse(t, `
dhcp:
  subnets:
    - cidr: 10.0.0.0/24
      lease_time: 600
    - cidr: 10.0.1.0/24
      lease_time: 12h
profiles:
  a: {local: true}
  m:
    menu: {items: [a], timeout: 0}
`)
	if got := cfg.DHCP.Subnets[0].LeaseTime; got != Duration(10*time.Minute) {
		t.Errorf("lease_time 600 = %v", got)
	}
	if got := cfg.DHCP.Subnets[1].LeaseTime; got != Duration(12*time.Hour) {
		t.Errorf("lease_time 12h = %v", got)
	}
	if got := cfg.Profiles["m"].Menu.Timeout; got != 0 {
		t.Errorf("explicit timeout 0 = %v, want 0 (not the default)", got)
	}
}

func TestDurationString(t *testing.T) {
	out, err := yaml.Marshal(struct{ D Duration }{Duration(90 * time.Second)})
	if err != nil || string(out) != "d: 1m30s\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
}
