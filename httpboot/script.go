package httpboot

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/ipxe"
)

// Query keys with a meaning of their own; every other key becomes a label.
const (
	paramMAC      = "mac"
	paramUUID     = "uuid"
	paramHostname = "hostname"
	paramArch     = "arch"
	paramPlatform = "platform"
)

// paramError is a query parameter that could not be parsed.
type paramError struct {
	param, value string
	err          error
}

func (e *paramError) Error() string {
	return fmt.Sprintf("bad %s parameter %q: %v", e.param, e.value, e.err)
}

// serveScript serves the script for the machine the query describes. A
// machine that gets no profile still gets 200 and a script explaining why,
// so its console shows the reason.
func (s *Server) serveScript(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseFacts(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeScript(w, s.script(w, f, isEFI(q, f)))
}

// parseFacts turns the query iPXE sends (see ipxe.EntryScript) into facts.
// mac may use colons or hyphens; arch is the numeric RFC 4578 type.
func parseFacts(q url.Values) (boot.Facts, error) {
	f := boot.Facts{UUID: q.Get(paramUUID), Hostname: q.Get(paramHostname), Labels: map[string]string{}}
	if v := q.Get(paramMAC); v != "" {
		mac, err := net.ParseMAC(v)
		if err != nil {
			return f, &paramError{paramMAC, v, err}
		}
		f.MAC = mac
	}
	if v := q.Get(paramArch); v != "" {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return f, &paramError{paramArch, v, err}
		}
		f.Arch, f.HasArch = boot.Arch(n), true
	}
	for k, vs := range q {
		if k != paramMAC && k != paramUUID && k != paramHostname && k != paramArch && len(vs) > 0 {
			f.Labels[k] = vs[0]
		}
	}
	return f, nil
}

// isEFI reports whether the client runs UEFI firmware: iPXE says so in
// platform, DHCP-driven clients in arch.
func isEFI(q url.Values, f boot.Facts) bool {
	return q.Get(paramPlatform) == "efi" || (f.HasArch && f.Arch.IsEFI())
}

// script decides and renders the machine's script. Whatever goes wrong, the
// result is a script: failures become a NoProfile script with the reason.
func (s *Server) script(w http.ResponseWriter, f boot.Facts, efi bool) []byte {
	inv := s.inventory()
	if inv == nil {
		annotate(w, "reason", "no inventory")
		return ipxe.NoProfile(s.baseURL, "rackboot has no inventory loaded")
	}
	d := inv.Decide(f)
	if d.Profile == nil {
		reason := noProfileReason(d)
		annotate(w, "reason", reason)
		return ipxe.NoProfile(s.baseURL, reason)
	}
	annotate(w, "profile", d.Profile.Name)
	annotate(w, "source", d.Source)
	b, err := ipxe.Render(ipxe.Params{BaseURL: s.baseURL, EFI: efi, Decision: d, Profiles: inv.Profile})
	if err != nil {
		s.log.WithError(err).WithField("profile", d.Profile.Name).Error("cannot render boot script")
		return ipxe.NoProfile(s.baseURL, "profile "+d.Profile.Name+" cannot be served: "+err.Error())
	}
	return b
}

// noProfileReason explains a decision without a profile, including one
// whose chosen profile does not exist.
func noProfileReason(d boot.Decision) string {
	if d.Reason != "" {
		return d.Reason
	}
	if d.Source != "" {
		return "the profile chosen by " + d.Source + " does not exist"
	}
	return "no profile was chosen"
}
