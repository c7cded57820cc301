// Package httpboot is rackboot's HTTP server: the iPXE entry script, the
// per-machine boot scripts and the files of the assets store.
package httpboot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/ipxe"
	"github.com/sirupsen/logrus"
)

// Server limits. There is no write timeout: kernels and images are large
// and clients may be slow.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Options configure a Server.
type Options struct {
	// Inventory returns the current inventory; it may return nil while
	// none is loaded, and is called once per script request so a reload
	// takes effect at once.
	Inventory func() *boot.Inventory
	// Assets serves /assets/.
	Assets *assets.Store
	// BaseURL is how clients reach this server, e.g. http://10.0.0.1:8080.
	BaseURL string
	// Log receives one Info line per request; nil discards.
	Log logrus.FieldLogger
}

// Server answers iPXE clients over HTTP.
type Server struct {
	inventory func() *boot.Inventory
	assets    *assets.Store
	baseURL   string
	log       logrus.FieldLogger
	srv       *http.Server
}

// New returns a Server for o. It does not listen; see Serve.
func New(o Options) *Server {
	s := &Server{
		inventory: o.Inventory,
		assets:    o.Assets,
		baseURL:   strings.TrimRight(o.BaseURL, "/"),
		log:       o.Log,
	}
	if s.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		s.log = l
	}
	if s.inventory == nil {
		s.inventory = func() *boot.Inventory { return nil }
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(logWriter{s.log}, "", 0),
	}
	return s
}

// Handler returns the server's routes, with request logging:
//
//	GET /boot.ipxe        the entry script
//	GET /ipxe?mac=...     the script for one machine
//	GET /assets/PATH      a file of the assets store (Range, HEAD, ...)
//
// HEAD is accepted wherever GET is; other methods get 405, other paths 404.
func (s *Server) Handler() http.Handler {
	return s.logRequests(http.HandlerFunc(s.route))
}

// Serve accepts connections on ln until Shutdown, then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for active requests to
// finish or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.srv.Shutdown(ctx)
}

// route dispatches a request by path, then by method.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	var h http.HandlerFunc
	switch p := r.URL.Path; {
	case p == "/boot.ipxe":
		h = s.serveEntry
	case p == "/ipxe":
		h = s.serveScript
	case strings.HasPrefix(p, "/assets/"):
		h = s.serveAsset
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h(w, r)
}

// serveEntry serves the static entry script.
func (s *Server) serveEntry(w http.ResponseWriter, r *http.Request) {
	writeScript(w, ipxe.EntryScript(s.baseURL))
}

// writeScript sends an iPXE script; scripts are never cached because the
// inventory may change at any time.
func writeScript(w http.ResponseWriter, script []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(script)
}

// logWriter turns net/http's error log lines into warnings.
type logWriter struct{ log logrus.FieldLogger }

func (l logWriter) Write(p []byte) (int, error) {
	l.log.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

// badRequest answers 400 naming the query parameter that was wrong.
func badRequest(w http.ResponseWriter, param, value string, err error) {
	http.Error(w, fmt.Sprintf("bad %s parameter %q: %v", param, value, err), http.StatusBadRequest)
}
