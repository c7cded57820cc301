package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/rackboot/rackboot/dhcp"
)

// keepAlive is how often an idle event stream gets a comment line, so
// that proxies and browsers keep it open.
const keepAlive = 15 * time.Second

// serveEvents streams every change of the timeline as Server-Sent Events
// (event "machine", data {"machine": {...}, "event": {...}}) until the
// client goes away or the server stops. A client that falls behind misses
// changes; it learns so from an event "dropped" and can reload the list.
func (a *API) serveEvents(w http.ResponseWriter, r *http.Request) {
	if a.o.Timeline == nil {
		Error(w, http.StatusServiceUnavailable, "the timeline is off (timeline.enabled: false): no events")
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	ch, cancel := a.o.Timeline.Subscribe(256)
	defer cancel()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	dropped := a.o.Timeline.Dropped.Load()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-a.done:
			return
		case <-tick.C:
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		case c := <-ch:
			var b []byte
			if b, err = json.Marshal(c); err == nil {
				_, err = fmt.Fprintf(w, "event: machine\ndata: %s\n\n", b)
			}
			if d := a.o.Timeline.Dropped.Load(); d != dropped && err == nil {
				dropped = d
				_, err = fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", d)
			}
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// leasesBody is GET /api/v1/leases.
type leasesBody struct {
	// Serving is false in proxy and off modes: rackboot hands out no
	// addresses.
	Serving bool         `json:"serving"`
	Subnets []dhcp.Usage `json:"subnets"`
}

func (a *API) serveLeases(w http.ResponseWriter, r *http.Request) {
	body := leasesBody{Subnets: []dhcp.Usage{}}
	if a.o.Leases != nil {
		body.Serving = true
		if u := a.o.Leases(); u != nil {
			body.Subnets = u
		}
	}
	JSON(w, http.StatusOK, body)
}
