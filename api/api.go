// Package api is rackboot's read API under /api/v1 (docs/observe.md):
// the machines with their boot state and timeline, a live stream of
// changes (Server-Sent Events), the report a booted system sends, and the
// leases per subnet. Register puts its routes on the daemon's /api/ mux,
// beside the routes other features register there.
//
// Every error is a JSON body {"error": "...", "status": N}; unknown paths
// under /api/ get one with 404.
package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/dhcp"
	"github.com/rackboot/rackboot/discovery"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/internal/logx"
	"github.com/rackboot/rackboot/timeline"
)

// Options are what the API reads.
type Options struct {
	// Timeline holds what was seen; nil when the timeline is off (the
	// machines are then the inventory's, without state).
	Timeline *timeline.Store
	// Inventory returns the inventory in force.
	Inventory func() *boot.Inventory
	// Reports receives the events of /api/v1/report; nil refuses reports.
	Reports events.Sink
	// Leases returns each subnet's pool usage; nil when rackboot hands out
	// no addresses (proxy or off mode).
	Leases func() []dhcp.Usage
	// Discovered holds the machines that PXE-booted with no rule giving
	// them a profile (discovery package); nil when not kept.
	Discovered *discovery.Registry
	Log        logrus.FieldLogger
}

// API serves the routes. Shutdown ends the event streams, so that the
// HTTP server's graceful shutdown does not wait for them.
type API struct {
	o    Options
	log  logrus.FieldLogger
	once sync.Once
	done chan struct{}
}

// New returns the API for o.
func New(o Options) *API {
	if o.Inventory == nil {
		o.Inventory = func() *boot.Inventory { return nil }
	}
	return &API{o: o, log: logx.OrDiscard(o.Log), done: make(chan struct{})}
}

// Register adds the API's routes to mux:
//
//	GET /api/v1/machines        every machine, seen or in the inventory
//	GET /api/v1/machines/MAC    one machine with its events
//	GET /api/v1/events          changes as Server-Sent Events
//	GET|POST /api/v1/report     ?mac=…&state=booted|failed&detail=…
//	GET /api/v1/leases          leases per subnet (in use, free)
//	/api/                       anything else: a JSON 404
//
// The patterns carry no method, so that another feature may register,
// say, "POST /api/v1/machines" beside them; other methods get a JSON 405.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("/api/v1/machines", a.get(a.serveMachines))
	mux.HandleFunc("/api/v1/machines/{mac}", a.get(a.serveMachine))
	mux.HandleFunc("/api/v1/events", a.get(a.serveEvents))
	mux.HandleFunc("/api/v1/report", a.serveReport)
	mux.HandleFunc("/api/v1/leases", a.get(a.serveLeases))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		Error(w, http.StatusNotFound, "no such API path: "+r.URL.Path+" (docs/observe.md lists them)")
	})
}

// Shutdown ends every event stream.
func (a *API) Shutdown() { a.once.Do(func() { close(a.done) }) }

// get allows GET and HEAD only.
func (a *API) get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			Error(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+" (GET only)")
			return
		}
		h(w, r)
	}
}

// errorBody is every error's JSON.
type errorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// Error writes a JSON error with status code.
func Error(w http.ResponseWriter, code int, msg string) {
	JSON(w, code, errorBody{Error: msg, Status: code})
}

// JSON writes v as an indented JSON body with status code.
func JSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
