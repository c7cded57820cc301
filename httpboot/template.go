package httpboot

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"text/template"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// Limits on templates, against a file or a loop that would eat the memory.
const (
	maxTemplateBytes = 1 << 20
	maxRenderedBytes = 8 << 20
)

// TemplateData is what cmdline, script, ignition, cloud_config and generic
// templates see (text/template, with missingkey=error: a missing map key is
// an error; use `index .Machine.Labels "k"` for an optional one).
// docs/http.md lists every field.
type TemplateData struct {
	Machine MachineData
	Profile ProfileData
	Server  ServerData
	Request RequestData
}

// MachineData describes the client: its inventory entry when there is
// one, completed by what the query reported.
type MachineData struct {
	// Known is true when the inventory has a machine with this MAC.
	Known bool
	// MAC is lower-case colon form; "" when not known.
	MAC      string
	UUID     string
	Hostname string
	// IPv4 is the machine's fixed address from the inventory, or "".
	IPv4 string
	// Labels are the labels selection used: the machine entry's labels,
	// overridden by the query's label keys.
	Labels map[string]string
}

// ProfileData describes the profile being rendered.
type ProfileData struct {
	Name    string
	Kernel  string
	Initrd  []string
	Cmdline string
}

// ServerData says how clients reach rackboot.
type ServerData struct {
	// Address is the advertised IP address (host part of BaseURL).
	Address  string
	HTTPPort int
	TFTPPort int
	// BaseURL is http://ADDRESS:HTTP_PORT, without a trailing slash.
	BaseURL string
}

// RequestData is the request itself.
type RequestData struct {
	// Query holds the first value of every query key.
	Query map[string]string
	// EFI is true when the client said it runs UEFI (platform=efi or an
	// EFI arch).
	EFI bool
}

// templateData builds the template values for a request and its selection.
func (s *Server) templateData(req request, sel selection) TemplateData {
	d := TemplateData{
		Machine: machineData(req, sel),
		Server:  s.serverData(),
		Request: RequestData{Query: firstValues(req.query), EFI: req.efi},
	}
	if sel.profile != nil {
		d = d.forProfile(sel.profile)
	}
	return d
}

// forProfile returns a copy of d describing pr (menu items render with
// their own profile).
func (d TemplateData) forProfile(pr *config.Profile) TemplateData {
	d.Profile = ProfileData{Name: pr.Name, Kernel: pr.Kernel, Initrd: pr.Initrd, Cmdline: pr.Cmdline}
	return d
}

// machineData merges the inventory entry (which wins for its own fields)
// with the query.
func machineData(req request, sel selection) MachineData {
	f := req.facts
	m := MachineData{UUID: f.UUID, Hostname: f.Hostname, Labels: map[string]string{}}
	if f.MAC != nil {
		m.MAC = f.MAC.String()
	}
	if e := sel.decision.Machine; e != nil {
		m.Known = true
		if e.HWAddr != nil {
			m.MAC = e.HWAddr.String()
		}
		if e.UUID != "" {
			m.UUID = e.UUID
		}
		if e.Hostname != "" {
			m.Hostname = e.Hostname
		}
		m.IPv4 = e.IPv4
		for k, v := range e.Labels {
			m.Labels[k] = v
		}
	}
	for k, v := range f.Labels {
		m.Labels[k] = v
	}
	return m
}

// serverData splits the base URL into address and port.
func (s *Server) serverData() ServerData {
	d := ServerData{BaseURL: s.baseURL, TFTPPort: s.tftpPort}
	if u, err := url.Parse(s.baseURL); err == nil {
		d.Address = u.Hostname()
		d.HTTPPort, _ = strconv.Atoi(u.Port())
		if d.HTTPPort == 0 {
			d.HTTPPort = 80
		}
	}
	return d
}

// firstValues flattens a query to its first values.
func firstValues(q url.Values) map[string]string {
	out := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}

// renderCmdline renders a profile's cmdline as a template. A cmdline
// without "{{" is returned as it is.
func renderCmdline(pr *config.Profile, data TemplateData) (string, error) {
	if !bytes.Contains([]byte(pr.Cmdline), []byte("{{")) {
		return pr.Cmdline, nil
	}
	b, err := renderTemplate("cmdline of profile "+pr.Name, pr.Cmdline, data)
	return string(b), err
}

// renderFile renders the template file rel of the assets store.
func (s *Server) renderFile(rel string, data TemplateData) ([]byte, error) {
	if s.assets == nil {
		return nil, fmt.Errorf("template %s: no assets folder", rel)
	}
	f, err := s.assets.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", rel, err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxTemplateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", rel, err)
	}
	if len(src) > maxTemplateBytes {
		return nil, fmt.Errorf("template %s is larger than %d bytes", rel, maxTemplateBytes)
	}
	return renderTemplate(rel, string(src), data)
}

// renderTemplate parses and executes one template. Errors name the
// template and, from text/template, the line.
func renderTemplate(name, src string, data TemplateData) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	var buf limitedBuffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// limitedBuffer is a bytes.Buffer that refuses to grow past
// maxRenderedBytes.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxRenderedBytes {
		return 0, fmt.Errorf("output is larger than %d bytes", maxRenderedBytes)
	}
	return b.Buffer.Write(p)
}

// Cmdline renders the kernel command line of d's profile as a template,
// for a client that reached rackboot without an HTTP query (PXELINUX over
// TFTP): the template sees the machine's inventory entry, the server and
// an empty query. It is what pxelinux.Resolver.WithCmdline wants.
func (s *Server) Cmdline(d boot.Decision) (string, error) {
	f := boot.Facts{}
	if d.Machine != nil {
		f.MAC = d.Machine.HWAddr
	}
	req := request{query: url.Values{}, facts: f}
	sel := selection{decision: d, profile: d.Profile}
	return renderCmdline(d.Profile, s.templateData(req, sel))
}
