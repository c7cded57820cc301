package httpboot

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/ipxe"
)

// Query keys with a meaning of their own; every other key becomes a label.
const (
	paramMAC      = "mac"
	paramUUID     = "uuid"
	paramHostname = "hostname"
	paramArch     = "arch"
	paramPlatform = boot.PlatformLabel
	paramItem     = ipxe.ItemParam
)

// paramError is a query parameter that could not be parsed.
type paramError struct {
	param, value string
	err          error
}

func (e *paramError) Error() string {
	return fmt.Sprintf("bad %s parameter %q: %v", e.param, e.value, e.err)
}

// request is what a script or config request says about the client.
type request struct {
	query url.Values
	facts boot.Facts
	efi   bool
	// item asks for one item of the machine's menu profile.
	item string
}

// parseRequest turns the query iPXE sends (see ipxe.EntryScript) into a
// request. mac may use colons or hyphens; arch is the numeric RFC 4578
// type; item names a menu item. Keys other than mac, uuid, hostname, arch
// and item become labels, as in matchbox; a key given twice counts with its
// first value.
func parseRequest(q url.Values) (request, error) {
	f := boot.Facts{Class: boot.ClassIPXE, UUID: q.Get(paramUUID), Hostname: q.Get(paramHostname), Labels: map[string]string{}}
	if v := q.Get(paramMAC); v != "" {
		mac, err := net.ParseMAC(v)
		if err != nil {
			return request{}, &paramError{paramMAC, v, err}
		}
		f.MAC = mac
	}
	if v := q.Get(paramArch); v != "" {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return request{}, &paramError{paramArch, v, err}
		}
		f.Arch, f.HasArch = boot.Arch(n), true
	}
	for k, vs := range q {
		switch k {
		case paramMAC, paramUUID, paramHostname, paramArch, paramItem:
		default:
			if len(vs) > 0 {
				f.Labels[k] = vs[0]
			}
		}
	}
	return request{query: q, facts: f, efi: f.EFI(), item: q.Get(paramItem)}, nil
}

// selection is the outcome of choosing a profile for a request.
type selection struct {
	inv      *boot.Inventory
	decision boot.Decision
	// profile is what the request gets: the decided profile or, with
	// item=NAME, that item of the decided menu. nil when reason is set.
	profile *config.Profile
	reason  string
}

// selectProfile decides which profile the request gets and annotates the
// request's log line with it. Without one, reason says why.
func (s *Server) selectProfile(w http.ResponseWriter, req request) selection {
	inv := s.inventory()
	if inv == nil {
		annotate(w, "reason", "no inventory")
		return selection{reason: "rackboot has no inventory loaded"}
	}
	// The HTTP server needs only the profile: the next step of an iPXE
	// client that already runs a script is that script.
	sel := selection{inv: inv, decision: inv.Decide(req.facts, boot.Server{})}
	sel.profile = sel.decision.Profile
	switch {
	case sel.profile == nil:
		sel.reason = noProfileReason(sel.decision)
	case req.item != "":
		sel.profile, sel.reason = menuItem(inv, sel.profile, req.item)
		sel.decision.Menu = sel.decision.Profile.Name
	}
	if sel.profile == nil {
		annotate(w, "reason", sel.reason)
		return sel
	}
	sel.decision.Profile = sel.profile
	noteProfile(w, sel.profile, sel.decision)
	annotate(w, "profile", sel.profile.Name)
	annotate(w, "source", sel.decision.Via())
	return sel
}

// menuItem returns the item called name of the menu profile menu, or why
// the machine may not have it: a machine may only pick items of its own
// menu.
func menuItem(inv *boot.Inventory, menu *config.Profile, name string) (*config.Profile, string) {
	if menu.Menu == nil {
		return nil, fmt.Sprintf("item %q was asked for, but profile %s is not a menu", name, menu.Name)
	}
	for _, it := range menu.Menu.Items {
		if it == name {
			if p := inv.Profile(name); p != nil {
				return p, ""
			}
		}
	}
	return nil, fmt.Sprintf("item %q is not one of the items of menu %s", name, menu.Name)
}

// noProfileReason explains a decision without a profile, including one
// whose chosen profile does not exist.
func noProfileReason(d boot.Decision) string {
	if d.Reason != "" {
		return d.Reason
	}
	return "no profile was chosen"
}

// serveScript answers /ipxe: the script for the machine the query
// describes. A machine that gets no profile still gets 200 and a script
// explaining why and retrying, so its console shows the reason; only a
// query that cannot be parsed gets 400.
func (s *Server) serveScript(w http.ResponseWriter, r *http.Request) reply {
	req, err := parseRequest(r.URL.Query())
	if err != nil {
		return textReply(http.StatusBadRequest, err.Error())
	}
	return scriptReply(s.script(w, req))
}

// script decides and renders the machine's script. Whatever goes wrong, the
// result is a script: failures become a NoProfile script with the reason.
func (s *Server) script(w http.ResponseWriter, req request) []byte {
	sel := s.selectProfile(w, req)
	if sel.profile == nil {
		return ipxe.NoProfile(s.baseURL, sel.reason)
	}
	data := s.templateData(req, sel)
	b, err := ipxe.Render(ipxe.Params{
		BaseURL:  s.baseURL,
		EFI:      req.efi,
		Decision: sel.decision,
		Profiles: sel.inv.Profile,
		Cmdline:  func(pr *config.Profile) (string, error) { return renderCmdline(pr, data.forProfile(pr)) },
		Script:   func(pr *config.Profile) ([]byte, error) { return s.renderFile(pr.Script, data.forProfile(pr)) },
		Query:    req.query,
	})
	if err != nil {
		s.log.WithError(err).WithField("profile", sel.profile.Name).Error("cannot render boot script")
		annotate(w, "error", err.Error())
		return ipxe.NoProfile(s.baseURL, "profile "+sel.profile.Name+" cannot be served: "+err.Error())
	}
	return b
}

// serveEntry answers /boot.ipxe with the static entry script.
func (s *Server) serveEntry(w http.ResponseWriter, r *http.Request) reply {
	return scriptReply(ipxe.EntryScript(s.baseURL))
}
