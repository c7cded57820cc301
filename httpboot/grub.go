package httpboot

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/grub"
)

// GRUBPath is the matchbox-compatible GRUB config endpoint.
const GRUBPath = "/grub"

// serveGRUB answers GET /grub?mac=…&uuid=…&KEY=VALUE… (matchbox's
// endpoint) with the grub.cfg the TFTP server generates for the same
// machine, its kernel and initrds read from this server's /assets/ over
// GRUB's http module, and its command line templated with the query. A
// client without a profile GRUB can boot gets a 404 that says why.
func (s *Server) serveGRUB(w http.ResponseWriter, r *http.Request) reply {
	req, err := parseRequest(r.URL.Query())
	if err != nil {
		return textReply(http.StatusBadRequest, err.Error())
	}
	inv := s.inventory()
	if inv == nil {
		return textReply(http.StatusNotFound, "rackboot has no inventory loaded")
	}
	res, err := grub.NewResolver(func() *boot.Inventory { return inv }).
		WithRoot(s.grubRoot()).
		WithCmdline(func(d boot.Decision) (string, error) {
			return renderCmdline(d.Profile, s.templateData(req, selection{inv: inv, decision: d, profile: d.Profile}))
		}).ForFacts(req.facts)
	if err != nil {
		annotate(w, "reason", err.Error())
		return textReply(http.StatusNotFound, "no GRUB config for this machine: "+err.Error())
	}
	annotate(w, "profile", res.Decision.Profile.Name)
	annotate(w, "source", res.Decision.Via())
	return scriptReply(res.Body)
}

// grubRoot is GRUB's name for this server's assets folder:
// (http,HOST:PORT)/assets/.
func (s *Server) grubRoot() string {
	u, err := url.Parse(s.baseURL)
	if err != nil || u.Host == "" {
		return grub.DefaultRoot
	}
	return "(http," + u.Host + ")" + strings.TrimSuffix(boot.AssetsPath, "/") + "/"
}
