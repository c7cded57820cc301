package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/internal/logx"
)

// EntriesName names the entries document in config errors.
const EntriesName = "api-entries"

// maxBody bounds a request body.
const maxBody = 1 << 20

// profileName is what a profile made through the API may be called: the
// names a key path shows without quoting.
var profileName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Inventory is what the API needs from the daemon.
type Inventory interface {
	// FileNames returns the MACs and profile names the inventory file
	// defines: the API cannot change those.
	FileNames() (macs, profiles map[string]bool)
	// Apply checks the inventory file with e merged in (the same
	// validation as the file) and, when it is valid, calls persist and
	// then puts the result in force. A config.Errors error lists the
	// problems; an error of persist is returned as it is.
	Apply(e Entries, persist func() error) error
}

// API serves the admin write routes.
type API struct {
	store *Store
	inv   Inventory
	log   logrus.FieldLogger
}

// New returns the API over store and inv.
func New(store *Store, inv Inventory, log logrus.FieldLogger) *API {
	return &API{store: store, inv: inv, log: logx.OrDiscard(log)}
}

// Register adds the routes to mux:
//
//	POST   /api/v1/machines/{mac}    add a machine (409 if it exists)
//	PUT    /api/v1/machines/{mac}    add or replace a machine
//	DELETE /api/v1/machines/{mac}    remove a machine
//	POST   /api/v1/profiles/{name}   add a profile (409 if it exists)
//	PUT    /api/v1/profiles/{name}   add or replace a profile
//	DELETE /api/v1/profiles/{name}   remove a profile
//	GET    /api/v1/entries           every entry made through the API
func (a *API) Register(mux *http.ServeMux) {
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		mux.HandleFunc(m+" /api/v1/machines/{mac}", a.machine)
		mux.HandleFunc(m+" /api/v1/profiles/{name}", a.profile)
	}
	mux.HandleFunc("GET /api/v1/entries", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, a.store.Entries())
	})
}

// FieldError is one problem, named by the entry's field.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// errorBody is every error response.
type errorBody struct {
	Error  string       `json:"error"`
	Errors []FieldError `json:"errors,omitempty"`
}

func (a *API) machine(w http.ResponseWriter, r *http.Request) {
	hw, err := net.ParseMAC(r.PathValue("mac"))
	if err != nil || len(hw) != 6 {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a MAC address", r.PathValue("mac")))
		return
	}
	mac := hw.String()
	fileMACs, _ := a.inv.FileNames()
	if fileMACs[mac] {
		httpError(w, http.StatusConflict, "machine "+mac+" is defined in the inventory file, which the API cannot override: change it there")
		return
	}
	a.change(w, r, "machine "+mac, func(e Entries) map[string]json.RawMessage { return e.Machines }, mac, func(obj map[string]any) *FieldError {
		if v, ok := obj["mac"]; ok {
			s, _ := v.(string)
			if got, err := net.ParseMAC(s); err != nil || got.String() != mac {
				return &FieldError{Field: "mac", Message: fmt.Sprintf("%v does not match the MAC in the path, %s", v, mac)}
			}
		}
		obj["mac"] = mac
		return nil
	})
}

func (a *API) profile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !profileName.MatchString(name) {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a profile name: 1-64 letters, digits, - and _", name))
		return
	}
	_, fileProfiles := a.inv.FileNames()
	if fileProfiles[name] {
		httpError(w, http.StatusConflict, "profile "+name+" is defined in the inventory file, which the API cannot override: change it there")
		return
	}
	a.change(w, r, "profile "+name, func(e Entries) map[string]json.RawMessage { return e.Profiles }, name, func(obj map[string]any) *FieldError {
		if _, ok := obj["name"]; ok {
			return &FieldError{Field: "name", Message: "a profile's name is the last part of the path, not a field"}
		}
		return nil
	})
}

// change applies one POST, PUT or DELETE to the entry key of the map
// that of picks.
func (a *API) change(w http.ResponseWriter, r *http.Request, what string, of func(Entries) map[string]json.RawMessage, key string, fix func(map[string]any) *FieldError) {
	next := a.store.Entries()
	_, exists := of(next)[key]
	status := http.StatusOK
	switch r.Method {
	case http.MethodDelete:
		if !exists {
			httpError(w, http.StatusNotFound, what+" was not made through the API")
			return
		}
		delete(of(next), key)
		status = http.StatusNoContent
	case http.MethodPost, http.MethodPut:
		if exists && r.Method == http.MethodPost {
			httpError(w, http.StatusConflict, what+" exists: PUT replaces it")
			return
		}
		body, ferr := readObject(r, fix)
		if ferr != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: what + ": the body is not valid", Errors: []FieldError{*ferr}})
			return
		}
		of(next)[key] = body
		if !exists {
			status = http.StatusCreated
		}
	}
	err := a.inv.Apply(next, func() error { return a.store.Save(next) })
	var es config.Errors
	switch {
	case errors.As(err, &es):
		fileMACs, fileProfiles := a.inv.FileNames()
		_, macs := next.Doc(fileMACs, fileProfiles)
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: what + ": not valid, nothing changed", Errors: fieldErrors(es, macs, key)})
		return
	case err != nil:
		a.log.WithError(err).Error("admin API: saving the entries")
		httpError(w, http.StatusInternalServerError, "saving the entries: "+err.Error())
		return
	}
	a.log.WithFields(logrus.Fields{"remote": r.RemoteAddr, "method": r.Method, "entry": what}).Info("admin API: inventory changed")
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, json.RawMessage(of(next)[key]))
}

// readObject reads the body, a JSON object, lets fix check and amend it,
// and returns it encoded again.
func readObject(r *http.Request, fix func(map[string]any) *FieldError) (json.RawMessage, *FieldError) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, &FieldError{Message: "reading the body: " + err.Error()}
	}
	if len(data) > maxBody {
		return nil, &FieldError{Message: "the body is larger than " + strconv.Itoa(maxBody) + " bytes"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		msg := "the body must be a JSON object with the inventory file's keys"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, &FieldError{Message: msg}
	}
	if dec.More() {
		return nil, &FieldError{Message: "the body must be one JSON object"}
	}
	if ferr := fix(obj); ferr != nil {
		return nil, ferr
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, &FieldError{Message: err.Error()}
	}
	return out, nil
}

// fieldErrors names each problem by its field: inside the entry being
// changed ("profile"), or in another entry by its MAC or name
// ("machines[52:54:00:12:34:56].profile") or, in the file, by the file's
// own "file:line: path".
func fieldErrors(es config.Errors, macs []string, key string) []FieldError {
	out := make([]FieldError, 0, len(es))
	for _, ce := range es {
		field := ce.Path
		if rest, ok := strings.CutPrefix(field, "machines["); ok {
			if i, after, found := strings.Cut(rest, "]"); found {
				if n, err := strconv.Atoi(i); err == nil && n < len(macs) {
					field = "machines[" + macs[n] + "]" + after
					if macs[n] == key {
						field = strings.TrimPrefix(after, ".")
					}
				}
			}
		} else if rest, ok := strings.CutPrefix(field, "profiles."+key); ok && (rest == "" || rest[0] == '.') {
			field = strings.TrimPrefix(rest, ".")
		}
		msg := ce.Msg
		if ce.File != EntriesName {
			msg = ce.Error() // a problem in the file itself
		}
		out = append(out, FieldError{Field: field, Message: msg})
	}
	return out
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
