package etcdstore

import (
	"testing"
	"time"

	"github.com/rackboot/rackboot/internal/etcdtest"
	"github.com/rackboot/rackboot/leases/storeurl"
)

// TestTLS: a member that requires client certificates accepts the store
// with server.store_tls's files and refuses it without a certificate or
// with the wrong CA.
func TestTLS(t *testing.T) {
	certs := etcdtest.NewCerts(t)
	c := etcdtest.StartTLS(t, 1, certs)
	tg, err := storeurl.Parse(c.URL("/tls"))
	if err != nil {
		t.Fatal(err)
	}
	try := func(files TLSFiles) error {
		tc, err := files.Load()
		if err != nil {
			t.Fatalf("loading %+v: %v", files, err)
		}
		s, err := Open(Config{Target: tg, TLS: tc, Timeout: time.Second})
		if err == nil {
			defer s.Close()
			err = s.Allocate(bind(addr(50), client(1), time.Hour))
		}
		return err
	}
	if err := try(TLSFiles{CA: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey}); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if err := try(TLSFiles{CA: certs.CA}); err == nil {
		t.Error("without a client certificate: accepted")
	}
	if err := try(TLSFiles{CA: certs.OtherCA, Cert: certs.ClientCert, Key: certs.ClientKey}); err == nil {
		t.Error("trusting another CA: accepted")
	}
	if _, err := (TLSFiles{CA: certs.ClientKey}).Load(); err == nil {
		t.Error("a key file as CA: loaded")
	}
}
