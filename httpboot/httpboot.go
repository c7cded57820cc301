// Package httpboot is rackboot's HTTP server: the iPXE entry script, the
// per-machine boot scripts, the config service (ignition, cloud-config,
// generic, metadata), pixiecore's API, detached OpenPGP signatures of all
// of these, and the files of the assets store. docs/http.md describes it.
package httpboot

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/events"
	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/internal/logx"
)

// Server limits. Headers must arrive within readHeaderTimeout and fit in
// maxHeaderBytes; an idle keep-alive connection is closed after
// idleTimeout. There is no server-wide WriteTimeout: it bounds the whole
// response, so any value short enough to matter would cut a 500 MB initrd
// on a slow link. Instead each response gets its own write deadline (see
// writeDeadline): rendered scripts and configs scriptWriteTimeout, files
// enough time to arrive at minTransferRate plus fileWriteSlack, so a stalled
// client is dropped eventually while a slow one finishes.
const (
	readHeaderTimeout  = 10 * time.Second
	idleTimeout        = 120 * time.Second
	maxHeaderBytes     = 64 << 10
	scriptWriteTimeout = 30 * time.Second
	fileWriteSlack     = 60 * time.Second
	minTransferRate    = 64 << 10 // bytes per second
	signatureSuffixSig = ".sig"
	signatureSuffixAsc = ".asc"
)

// Options configure a Server.
type Options struct {
	// Inventory returns the current inventory; it may return nil while
	// none is loaded, and is called once per request so a reload takes
	// effect at once.
	Inventory func() *boot.Inventory
	// Assets serves /assets/ and holds the templates profiles name.
	Assets *assets.Store
	// BaseURL is how clients reach this server, e.g. http://10.0.0.1:8080.
	BaseURL string
	// BaseURL6, when set, is how clients that came over IPv6 reach it,
	// e.g. http://[2001:db8:1::1]:8080: requests that arrive on an IPv6
	// connection get every URL with it (docs/ipv6.md).
	BaseURL6 string
	// TFTPPort is the TFTP server's port, for templates (.Server.TFTPPort).
	TFTPPort int
	// Signer, when set, makes every script and config endpoint also
	// answer PATH.sig and PATH.asc with a detached OpenPGP signature.
	Signer *Signer
	// Metrics, when set, answers GET /metrics (the servers' counters).
	Metrics http.Handler
	// API, when set, answers every path under /api/ (docs/operations.md).
	API http.Handler
	// Log receives one Info line per request; nil discards.
	Log logrus.FieldLogger
	// Events, when set, receives one event per script, config and asset
	// request (package events), with the machine's MAC when the request or
	// an earlier one from its address named it; nil: none.
	Events events.Sink
	// Requests, when set, is told of every request when it is done: its
	// endpoint (Endpoint), status and body bytes, for the metrics.
	Requests func(endpoint string, status int, bytes int64)
	// Mounts are more handlers on this server (the API, the dashboard),
	// matched before the boot routes: a Prefix ending in "/" matches the
	// paths under it, any other (and "/") only itself.
	Mounts []Mount
}

// Mount is a handler served at Prefix.
type Mount struct {
	Prefix  string
	Handler http.Handler
}

// Server answers iPXE clients, config requests and pixiecore over HTTP.
type Server struct {
	inventory func() *boot.Inventory
	assets    *assets.Store
	baseURL   string
	baseURL6  string
	tftpPort  int
	signer    *Signer
	metrics   http.Handler
	api       http.Handler
	log       logrus.FieldLogger
	events    events.Sink
	requests  func(endpoint string, status int, bytes int64)
	mounts    []Mount
	macs      *macBook
	srv       *http.Server
}

// New returns a Server for o. It does not listen; see Serve.
func New(o Options) *Server {
	s := &Server{
		inventory: o.Inventory,
		assets:    o.Assets,
		baseURL:   strings.TrimRight(o.BaseURL, "/"),
		baseURL6:  strings.TrimRight(o.BaseURL6, "/"),
		tftpPort:  o.TFTPPort,
		signer:    o.Signer,
		metrics:   o.Metrics,
		api:       o.API,
		log:       o.Log,
		events:    o.Events,
		requests:  o.Requests,
		mounts:    o.Mounts,
		macs:      newMACBook(macBookSize),
	}
	s.log = logx.OrDiscard(s.log)
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

// Handler returns the server's routes, with request logging (docs/http.md
// has them all):
//
//	GET /boot.ipxe        the entry script
//	GET /ipxe?mac=...     the script for one machine
//	GET /ignition?...     the selected profile's ignition template
//	GET /cloud-config?... its cloud_config template
//	GET /generic?...      its generic template
//	GET /metadata?...     KEY=value lines about the machine
//	GET /grub?...         the machine's grub.cfg (matchbox's endpoint)
//	GET /v1/boot/MAC      pixiecore API mode
//	GET /assets/PATH      a file of the assets store (Range, HEAD, ...)
//	GET /metrics          the servers' counters, when Options.Metrics is set
//	/api/...              Options.API, when set
//
// Every route but /assets/ also answers PATH.sig and PATH.asc when a
// signing key is loaded. HEAD is accepted wherever GET is; other methods
// get 405, other paths 404.
func (s *Server) Handler() http.Handler {
	return s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.forFamily(r).route(w, r) }))
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
// finish or ctx to end; then it closes the connections still open (a slow
// download), so Shutdown always returns with nothing left running.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}

// handler renders one script or config response.
type handler func(w http.ResponseWriter, r *http.Request) reply

// reply is a rendered response, kept whole so that it can be signed.
type reply struct {
	status      int
	contentType string
	body        []byte
}

// textReply is a plain-text reply, used for errors.
func textReply(status int, msg string) reply {
	return reply{status: status, contentType: "text/plain; charset=utf-8", body: []byte(msg + "\n")}
}

// scriptReply is a 200 iPXE script.
func scriptReply(b []byte) reply {
	return reply{status: http.StatusOK, contentType: "text/plain; charset=utf-8", body: b}
}

// rendered returns the handler of a script or config path, or nil.
func (s *Server) rendered(p string) handler {
	switch p {
	case boot.ScriptPath:
		return s.serveEntry
	case "/ipxe":
		return s.serveScript
	case "/ignition":
		return s.serveConfig(ignitionKind)
	case "/cloud-config":
		return s.serveConfig(cloudConfigKind)
	case "/generic":
		return s.serveConfig(genericKind)
	case "/metadata":
		return s.serveMetadata
	case GRUBPath:
		return s.serveGRUB
	}
	if strings.HasPrefix(p, pixiecorePrefix) && len(p) > len(pixiecorePrefix) {
		return s.servePixiecore
	}
	return nil
}

// route dispatches a request by path, then by method.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/metrics" && s.metrics != nil {
		s.metrics.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(p, "/api/") && s.api != nil {
		s.api.ServeHTTP(w, r)
		return
	}
	if m := s.mount(p); m != nil {
		m.ServeHTTP(w, r)
		return
	}
	h, sig := s.rendered(p), ""
	for _, suffix := range []string{signatureSuffixSig, signatureSuffixAsc} {
		if base, ok := strings.CutSuffix(p, suffix); ok && s.rendered(base) != nil {
			h, sig = s.rendered(base), suffix
			r = withPath(r, base)
		}
	}
	if h == nil && !strings.HasPrefix(p, boot.AssetsPath) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if h == nil {
		markStep(w, events.StepUnknown)
		s.serveAsset(w, r)
		return
	}
	markStep(w, stepOf(p))
	writeDeadline(w, scriptWriteTimeout)
	s.write(w, s.sign(h(w, r), sig))
}

// mount returns the mounted handler for path p, or nil.
func (s *Server) mount(p string) http.Handler {
	for _, m := range s.mounts {
		if p == m.Prefix || m.Prefix != "/" && strings.HasSuffix(m.Prefix, "/") && strings.HasPrefix(p, m.Prefix) {
			return m.Handler
		}
	}
	return nil
}

// Endpoint names the route of path p for the metrics, from a fixed set:
// boot.ipxe, ipxe, ignition, cloud-config, generic, metadata, pixiecore,
// assets, api, metrics, ui, other.
func Endpoint(p string) string {
	p = strings.TrimSuffix(strings.TrimSuffix(p, signatureSuffixSig), signatureSuffixAsc)
	switch {
	case p == boot.ScriptPath:
		return "boot.ipxe"
	case p == "/ipxe", p == "/ignition", p == "/cloud-config", p == "/generic", p == "/metadata":
		return p[1:]
	case strings.HasPrefix(p, pixiecorePrefix):
		return "pixiecore"
	case strings.HasPrefix(p, boot.AssetsPath):
		return "assets"
	case strings.HasPrefix(p, "/api/"):
		return "api"
	case p == "/metrics":
		return "metrics"
	case p == "/" || strings.HasPrefix(p, "/ui/"):
		return "ui"
	}
	return "other"
}

// stepOf says what a rendered path is in a boot.
func stepOf(p string) events.Step {
	switch p {
	case "/ignition", "/cloud-config", "/generic", "/metadata":
		return events.StepConfig
	}
	return events.StepScript
}

// withPath returns a shallow copy of r for path p (a signature request
// rendered as the document it signs).
func withPath(r *http.Request, p string) *http.Request {
	c := *r
	u := *r.URL
	u.Path, u.RawPath = p, ""
	c.URL = &u
	return &c
}

// sign turns a 200 reply into its detached signature when suffix is
// ".sig" or ".asc". Other replies are passed on unsigned, so an error still
// says what was wrong; without a signing key the signature paths are 404.
func (s *Server) sign(rep reply, suffix string) reply {
	if suffix == "" || rep.status != http.StatusOK {
		return rep
	}
	if s.signer == nil {
		return textReply(http.StatusNotFound, "signatures are off: set server.signing_key")
	}
	var (
		b   []byte
		err error
		ct  = "application/pgp-signature"
	)
	if suffix == signatureSuffixAsc {
		b, err = s.signer.SignArmored(rep.body)
	} else {
		b, err = s.signer.Sign(rep.body)
		ct = "application/octet-stream"
	}
	if err != nil {
		s.log.WithError(err).Error("cannot sign")
		return textReply(http.StatusInternalServerError, "signing failed; the rackboot log says why")
	}
	return reply{status: http.StatusOK, contentType: ct, body: b}
}

// write sends a reply. Rendered replies are never cached because the
// inventory and templates may change at any time.
func (s *Server) write(w http.ResponseWriter, rep reply) {
	w.Header().Set("Content-Type", rep.contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	if rep.status != http.StatusOK {
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}

// writeDeadline gives this response d to be written; errors (a writer
// without deadlines, as in tests) are ignored.
func writeDeadline(w http.ResponseWriter, d time.Duration) {
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}

// logWriter turns net/http's error log lines into warnings.
type logWriter struct{ log logrus.FieldLogger }

func (l logWriter) Write(p []byte) (int, error) {
	l.log.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}
