package httpboot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/rackboot/rackboot/config"
)

// configKind is one templated config endpoint.
type configKind struct {
	name        string // for messages: "ignition"
	key         string // the profile key naming the template
	contentType string
	template    func(*config.Profile) string
	// json requires the rendered output to be valid JSON.
	json bool
}

// The config endpoints, matchbox style.
var (
	ignitionKind = configKind{name: "ignition", key: "ignition", contentType: "application/json",
		template: func(p *config.Profile) string { return p.Ignition }, json: true}
	cloudConfigKind = configKind{name: "cloud-config", key: "cloud_config", contentType: "text/plain; charset=utf-8",
		template: func(p *config.Profile) string { return p.CloudConfig }}
	genericKind = configKind{name: "generic", key: "generic", contentType: "text/plain; charset=utf-8",
		template: func(p *config.Profile) string { return p.Generic }}
)

// serveConfig returns the handler of one config endpoint: the selected
// profile's template rendered with the request's TemplateData. No profile
// or no template for this kind is a 404 that says why; a template that
// fails is a 500, with the error logged (the body points at the log).
func (s *Server) serveConfig(k configKind) handler {
	return func(w http.ResponseWriter, r *http.Request) reply {
		req, err := parseRequest(r.URL.Query())
		if err != nil {
			return textReply(http.StatusBadRequest, err.Error())
		}
		sel := s.selectProfile(w, req)
		if sel.profile == nil {
			return textReply(http.StatusNotFound, "no profile for this machine: "+sel.reason)
		}
		rel := k.template(sel.profile)
		if rel == "" {
			return textReply(http.StatusNotFound, fmt.Sprintf("profile %s has no %s template (profile key %s)", sel.profile.Name, k.name, k.key))
		}
		b, err := s.renderFile(rel, s.templateData(req, sel))
		if err == nil && k.json && !json.Valid(b) {
			err = fmt.Errorf("template %s did not render valid JSON", rel)
		}
		if err != nil {
			s.log.WithError(err).WithFields(map[string]any{"profile": sel.profile.Name, "template": rel}).Errorf("cannot render %s", k.name)
			annotate(w, "error", err.Error())
			return textReply(http.StatusInternalServerError, fmt.Sprintf("rendering the %s template of profile %s failed; the rackboot log says why", k.name, sel.profile.Name))
		}
		return reply{status: http.StatusOK, contentType: k.contentType, body: b}
	}
}

// serveMetadata answers /metadata with KEY=value lines, one a line, sorted
// by key (matchbox's format): the query's keys, then the machine's labels,
// then its fields MAC, UUID, HOSTNAME, IPV4 and PROFILE; a later source
// wins over an earlier one for the same key. Keys are upper-cased with
// every character other than A-Z, 0-9 and _ turned into _; control
// characters in values become '?', so a value cannot add a line.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) reply {
	req, err := parseRequest(r.URL.Query())
	if err != nil {
		return textReply(http.StatusBadRequest, err.Error())
	}
	sel := s.selectProfile(w, req)
	if sel.profile == nil && sel.decision.Machine == nil {
		return textReply(http.StatusNotFound, "no machine or profile for this request: "+sel.reason)
	}
	return reply{status: http.StatusOK, contentType: "text/plain; charset=utf-8", body: metadata(s.templateData(req, sel), sel.profile)}
}

// metadata renders the KEY=value lines of serveMetadata.
func metadata(d TemplateData, pr *config.Profile) []byte {
	kv := map[string]string{}
	for k, v := range d.Request.Query {
		kv[metadataKey(k)] = v
	}
	for k, v := range d.Machine.Labels {
		kv[metadataKey(k)] = v
	}
	fields := map[string]string{"MAC": d.Machine.MAC, "UUID": d.Machine.UUID, "HOSTNAME": d.Machine.Hostname, "IPV4": d.Machine.IPv4}
	if pr != nil {
		fields["PROFILE"] = pr.Name
	}
	for k, v := range fields {
		if v != "" {
			kv[k] = v
		}
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, metadataValue(kv[k]))
	}
	return []byte(b.String())
}

// metadataKey upper-cases k and replaces characters outside [A-Z0-9_].
func metadataKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, k)
}

// metadataValue replaces control characters, so a value stays on its line.
func metadataValue(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, v)
}
