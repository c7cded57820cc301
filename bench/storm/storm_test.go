package main

import (
	"slices"
	"testing"
	"time"
)

func TestParseScript(t *testing.T) {
	vars := map[string]string{"mac": "02:5b:13:00:00:01", "platform": "efi", "hostname:uristring": ""}
	entry := "#!ipxe\nchain --replace --autofree http://10.0.0.1:8080/ipxe?mac=${mac}&hostname=${hostname:uristring}&platform=${platform} || goto failed\n"
	if got, want := parseScript([]byte(entry), vars).chain, "http://10.0.0.1:8080/ipxe?mac=02:5b:13:00:00:01&hostname=&platform=efi"; got != want {
		t.Errorf("chain = %q, want %q", got, want)
	}
	boot := "#!ipxe\n:k\nkernel http://s/vmlinuz console=ttyS0 || goto k-retry\ninitrd --name a http://s/a.img || goto r\n" +
		"echo could not download http://s/b\ninitrd http://s/b.img\nchain --replace http://s/boot.ipxe || goto x\n"
	s := parseScript([]byte(boot), vars)
	if s.kernel != "http://s/vmlinuz" || !slices.Equal(s.initrds, []string{"http://s/a.img", "http://s/b.img"}) {
		t.Errorf("kernel %q initrds %q", s.kernel, s.initrds)
	}
	if s := parseScript([]byte("#!ipxe\nkernel || goto x\n"), vars); s.kernel != "" {
		t.Errorf("a kernel line without URL gave %q", s.kernel)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Second)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Second}, {95, 95 * time.Second}, {99, 99 * time.Second}, {100, 100 * time.Second}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %s, want %s", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %s", got)
	}
}
