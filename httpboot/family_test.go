package httpboot

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
)

// TestBaseURLPerFamily: on one dual-stack listener, a request over IPv4
// gets IPv4 URLs and one over IPv6 bracketed IPv6 URLs, in the entry
// script and in the machine's script (kernel, initrd).
func TestBaseURLPerFamily(t *testing.T) {
	f := newFixture(t)
	log, _ := test.NewNullLogger()
	inv := boot.NewInventory(testConfig(t))
	srv := New(Options{Inventory: func() *boot.Inventory { return inv }, BaseURL: baseURL, BaseURL6: "http://[2001:db8:1::1]:8080",
		Assets: assets.New(f.dir, log).WithoutEmbedded().WithSystemDir(t.TempDir()), Log: log})
	ln, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Skipf("no dual-stack listener: %v", err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	get := func(host, path string) string {
		resp, err := http.Get("http://" + net.JoinHostPort(host, itoa(port)) + path)
		if err != nil {
			t.Skipf("GET over %s: %v", host, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, tt := range []struct{ host, want, not string }{
		{"127.0.0.1", "http://10.0.0.1:8080/", "[2001:db8:1::1]"},
		{"::1", "http://[2001:db8:1::1]:8080/", "10.0.0.1"},
	} {
		for _, path := range []string{"/boot.ipxe", "/ipxe?mac=" + knownMAC} {
			body := get(tt.host, path)
			if !strings.Contains(body, tt.want) || strings.Contains(body, tt.not) {
				t.Errorf("GET %s over %s:\n%s\nwant URLs with %s only", path, tt.host, body, tt.want)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
