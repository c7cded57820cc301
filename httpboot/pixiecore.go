package httpboot

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/ipxe"
)

// pixiecorePrefix is where pixiecore's API mode asks
// (`pixiecore api http://rackboot:8080`).
const pixiecorePrefix = "/v1/boot/"

// pixiecoreBoot is the JSON document pixiecore's API mode expects for a
// machine it should boot: absolute kernel and initrd URLs, the command line
// and a message it may show.
type pixiecoreBoot struct {
	Kernel  string   `json:"kernel"`
	Initrd  []string `json:"initrd"`
	Cmdline string   `json:"cmdline"`
	Message string   `json:"message,omitempty"`
}

// servePixiecore answers GET /v1/boot/MAC. Pixiecore boots the machine on
// a 200 with a pixiecoreBoot and ignores it on anything else, so a machine
// without a profile, or whose profile is not a kernel (pixiecore can only
// boot kernels), gets 404 with the reason in the body. The query's keys
// count as labels, as for /ipxe. The cmdline is rendered by rackboot;
// pixiecore then treats it as a template of its own, so "{{" must not be
// left in it unless meant for pixiecore.
func (s *Server) servePixiecore(w http.ResponseWriter, r *http.Request) reply {
	raw := strings.TrimPrefix(r.URL.Path, pixiecorePrefix)
	mac, err := net.ParseMAC(raw)
	if err != nil || len(mac) != 6 {
		return textReply(http.StatusBadRequest, fmt.Sprintf("bad MAC address %q in the path", raw))
	}
	annotate(w, "mac", mac.String())
	q := r.URL.Query()
	q.Set(paramMAC, mac.String())
	req, err := parseRequest(q)
	if err != nil {
		return textReply(http.StatusBadRequest, err.Error())
	}
	sel := s.selectProfile(w, req)
	if sel.profile == nil {
		return textReply(http.StatusNotFound, "no boot for "+mac.String()+": "+sel.reason)
	}
	if sel.profile.Kernel == "" {
		return textReply(http.StatusNotFound, fmt.Sprintf("profile %s is not a kernel profile; pixiecore can only boot kernels", sel.profile.Name))
	}
	doc, err := s.pixiecoreDoc(sel.profile, s.templateData(req, sel), sel.decision.Via())
	if err != nil {
		s.log.WithError(err).WithField("profile", sel.profile.Name).Error("cannot render pixiecore boot")
		annotate(w, "error", err.Error())
		return textReply(http.StatusInternalServerError, fmt.Sprintf("rendering profile %s failed; the rackboot log says why", sel.profile.Name))
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return textReply(http.StatusInternalServerError, err.Error())
	}
	return reply{status: http.StatusOK, contentType: "application/json", body: append(b, '\n')}
}

// pixiecoreDoc builds the document for a kernel profile.
func (s *Server) pixiecoreDoc(pr *config.Profile, data TemplateData, source string) (pixiecoreBoot, error) {
	kernel, err := ipxe.AssetURL(s.baseURL, pr.Kernel)
	if err != nil {
		return pixiecoreBoot{}, fmt.Errorf("kernel: %w", err)
	}
	doc := pixiecoreBoot{Kernel: kernel, Initrd: []string{}, Message: "rackboot: booting profile " + pr.Name + " (" + source + ")"}
	for i, ref := range pr.Initrd {
		u, err := ipxe.AssetURL(s.baseURL, ref)
		if err != nil {
			return pixiecoreBoot{}, fmt.Errorf("initrd %d: %w", i, err)
		}
		doc.Initrd = append(doc.Initrd, u)
	}
	if doc.Cmdline, err = renderCmdline(pr, data); err != nil {
		return pixiecoreBoot{}, fmt.Errorf("cmdline: %w", err)
	}
	if err := ipxe.CheckArgs(doc.Cmdline); err != nil {
		return pixiecoreBoot{}, fmt.Errorf("cmdline: %w", err)
	}
	return doc, nil
}
