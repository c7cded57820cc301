package main

import (
	"encoding/json"
	"net/http"
	"time"
)

// routes registers the daemon's own /api/v1 routes on d.api
// (docs/operations.md).
//
//	GET /api/v1/status   version, uptime, DHCP mode, the inventory file's
//	                     hash, last good load, last refused reload and the
//	                     settings that need a restart; the lease store
//	                     (degraded while etcd is unreachable) and the
//	                     cluster member's buckets and live members
func (d *daemon) routes() {
	d.api.HandleFunc("GET /api/v1/status", d.serveStatus)
}

// status is the body of GET /api/v1/status.
type status struct {
	Version   string       `json:"version"`
	StartedAt time.Time    `json:"started_at"`
	DHCPMode  string       `json:"dhcp_mode"`
	Inventory reloadStatus `json:"inventory"`
	// Store and Cluster: the lease store and, with etcd, this member's
	// share (cluster.go, docs/cluster.md).
	Store   storeStatus   `json:"store"`
	Cluster *memberStatus `json:"cluster,omitempty"`
}

func (d *daemon) serveStatus(w http.ResponseWriter, _ *http.Request) {
	st := status{Version: version, StartedAt: d.started, DHCPMode: d.cfg.DHCP.Mode, Inventory: d.reload.Status()}
	st.Store, st.Cluster = d.clusterStatus()
	writeJSON(w, http.StatusOK, st)
}

// writeJSON writes v as an indented JSON body with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
