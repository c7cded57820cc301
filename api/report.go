package api

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rackboot/rackboot/events"
)

// maxReportDetail bounds a report's detail text.
const maxReportDetail = 1024

// report is a booted system's report.
type report struct {
	MAC    string `json:"mac"`
	State  string `json:"state"`
	Detail string `json:"detail"`
}

// serveReport takes a report from a booted system, GET or POST:
// ?mac=…&state=booted|failed&detail=…, the same as a form body, or a JSON
// body {"mac":…,"state":…,"detail":…}.
func (a *API) serveReport(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		Error(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on /api/v1/report (GET or POST)")
		return
	}
	rep, err := readReport(r)
	if err != nil {
		Error(w, http.StatusBadRequest, err.Error())
		return
	}
	mac, err := events.ParseMAC(rep.MAC)
	if err != nil {
		Error(w, http.StatusBadRequest, "report: bad mac "+quote(rep.MAC)+": use six hex bytes such as 52:54:00:12:34:56")
		return
	}
	if rep.State != "booted" && rep.State != "failed" {
		Error(w, http.StatusBadRequest, "report: state "+quote(rep.State)+" is not booted or failed")
		return
	}
	if a.o.Reports == nil {
		Error(w, http.StatusServiceUnavailable, "reports are not recorded: the timeline is off (timeline.enabled: false)")
		return
	}
	if len(rep.Detail) > maxReportDetail {
		rep.Detail = rep.Detail[:maxReportDetail]
	}
	ev := events.Event{Time: time.Now(), MAC: mac, Kind: events.KindReport, State: rep.State, Reason: rep.Detail}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ev.Addr = ap.Addr().Unmap()
	}
	a.o.Reports.Emit(ev)
	a.log.WithFields(map[string]any{"mac": mac.String(), "state": rep.State, "detail": rep.Detail}).Info("report from a booted system")
	JSON(w, http.StatusOK, report{MAC: mac.String(), State: rep.State, Detail: rep.Detail})
}

// readReport reads the report's fields from the query, a form or JSON.
func readReport(r *http.Request) (report, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method == http.MethodPost && ct == "application/json" {
		var rep report
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10))
		if err := dec.Decode(&rep); err != nil {
			return report{}, errorf("report: the JSON body cannot be read: %v", err)
		}
		return rep, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return report{}, errorf("report: the form cannot be read: %v", err)
	}
	return report{MAC: strings.TrimSpace(r.Form.Get("mac")), State: strings.TrimSpace(r.Form.Get("state")), Detail: r.Form.Get("detail")}, nil
}
