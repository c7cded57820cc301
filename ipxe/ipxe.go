// Package ipxe renders the iPXE scripts rackboot serves: the static entry
// script every client chains first, and the per-machine script that boots
// the profile boot.Decide chose. It does no I/O.
package ipxe

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/rackboot/rackboot/assets"
	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
)

// Retry and wait times written into the scripts, in seconds.
const (
	downloadRetryWait = 5
	noProfileWait     = 30
	entryRetryWait    = 5
)

// menuLabel is the label of the menu; profile sections are labelled
// "p-NAME" and their inner steps "p-NAME/STEP", so none can collide.
const menuLabel = "rb-menu"

// initrdName matches initrd names used as they are.
var initrdName = regexp.MustCompile(`^[A-Za-z0-9._+-]+$`)

// EntryScript returns the static /boot.ipxe script. It chains to
// BASE/ipxe with the client's identifiers in the query (mac in colon form,
// uuid, hostname, serial, buildarch, platform), retrying every few seconds
// until the server answers. baseURL is the server's http://host:port prefix.
func EntryScript(baseURL string) []byte {
	base := strings.TrimRight(baseURL, "/")
	var b bytes.Buffer
	fmt.Fprintf(&b, "#!ipxe\n")
	fmt.Fprintf(&b, ":retry\n")
	fmt.Fprintf(&b, "chain --replace --autofree %s/ipxe?mac=${mac}&uuid=${uuid}&hostname=${hostname:uristring}&serial=${serial:uristring}&buildarch=${buildarch}&platform=${platform} || goto failed\n", base)
	fmt.Fprintf(&b, ":failed\n")
	fmt.Fprintf(&b, "echo rackboot: could not fetch the boot script from %s, retrying in %d seconds\n", Text(base), entryRetryWait)
	fmt.Fprintf(&b, "sleep %d\n", entryRetryWait)
	fmt.Fprintf(&b, "goto retry\n")
	return b.Bytes()
}

// Params is what Render needs to write one machine's script.
type Params struct {
	// BaseURL is the server's http://host:port prefix; assets are served
	// under BaseURL/assets/ and the entry script at BaseURL/boot.ipxe.
	BaseURL string
	// EFI is true for UEFI clients, which need initrd= on the kernel
	// command line.
	EFI bool
	// Decision is what boot.Decide chose. A nil Profile renders a script
	// that explains Decision.Reason and asks again later.
	Decision boot.Decision
	// Profiles looks up the items of a menu profile; it may be nil when
	// the profile is not a menu.
	Profiles func(name string) *config.Profile
	// Cmdline returns a kernel profile's command line, typically its
	// cmdline rendered as a template; nil uses the cmdline as written.
	Cmdline func(pr *config.Profile) (string, error)
	// Script returns the rendered script template of a script profile; it
	// is needed only when the chosen profile is one.
	Script func(pr *config.Profile) ([]byte, error)
	// Query is the request's query. A menu item of kind script is booted
	// by chaining to BASE/ipxe with this query plus item=NAME, so the
	// server renders that item with the same facts.
	Query url.Values
}

// ItemParam is the query key that asks for one item of the machine's menu.
const ItemParam = "item"

// Render returns the iPXE script for p: for a script profile the output of
// p.Script as it is, for every other kind a script rackboot writes. It
// fails when the chosen profile cannot be written safely: a command line,
// chain URL or path that would break out of its iPXE command, a profile
// name unusable as a label, an unknown or nested menu item, a profile that
// sets none or several of kernel, local, shell, menu, chain and script, or
// a template that fails. Callers should then serve NoProfile with the error
// as the reason, so the client never fails silently.
func Render(p Params) ([]byte, error) {
	r := &renderer{base: strings.TrimRight(p.BaseURL, "/"), efi: p.EFI, profiles: p.Profiles, cmdline: p.Cmdline, query: p.Query}
	if err := checkToken("base URL", r.base); err != nil {
		return nil, err
	}
	if p.Decision.Profile == nil {
		return NoProfile(p.BaseURL, p.Decision.Reason), nil
	}
	if p.Decision.Profile.Script != "" {
		return renderScript(p)
	}
	r.line("#!ipxe")
	r.echo(describe(p.Decision))
	if err := r.profile(p.Decision.Profile, true); err != nil {
		return nil, fmt.Errorf("profile %q: %w", p.Decision.Profile.Name, err)
	}
	return r.buf.Bytes(), nil
}

// NoProfile returns a script that prints why the machine does not boot and
// the identifiers its firmware reports, waits, then starts over at
// BASE/boot.ipxe. reason may hold anything; it is printed as inert text.
func NoProfile(baseURL, reason string) []byte {
	r := &renderer{base: strings.TrimRight(baseURL, "/")}
	if reason == "" {
		reason = "no reason given"
	}
	r.line("#!ipxe")
	r.echo("rackboot: this machine has no boot profile: " + reason)
	r.line("echo rackboot: firmware reports mac ${mac} uuid ${uuid} serial ${serial} hostname ${hostname} platform ${platform} buildarch ${buildarch}")
	r.line(":retry")
	r.echo(fmt.Sprintf("rackboot: asking %s again in %d seconds", r.base, noProfileWait))
	r.line("sleep %d", noProfileWait)
	r.line("chain --replace --autofree %s%s || goto retry", r.base, boot.ScriptPath)
	r.line("goto retry")
	return r.buf.Bytes()
}

// describe says which profile was chosen and why.
func describe(d boot.Decision) string {
	s := "rackboot: booting profile " + d.Profile.Name
	if d.Source != boot.SourceNone {
		s += " (" + d.Via() + ")"
	}
	return s
}

// renderScript returns a script profile's own script. Its first line must
// be iPXE's "#!ipxe" magic (leading blank lines are dropped), or iPXE would
// not run it.
func renderScript(p Params) ([]byte, error) {
	name := p.Decision.Profile.Name
	if p.Script == nil {
		return nil, fmt.Errorf("profile %q: script profiles need a script renderer", name)
	}
	b, err := p.Script(p.Decision.Profile)
	if err != nil {
		return nil, fmt.Errorf("profile %q: %w", name, err)
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("#!ipxe")) && !bytes.HasPrefix(b, []byte("#!gpxe")) {
		return nil, fmt.Errorf("profile %q: script %s does not start with #!ipxe", name, p.Decision.Profile.Script)
	}
	return b, nil
}

// renderer accumulates one script.
type renderer struct {
	buf      bytes.Buffer
	base     string
	efi      bool
	profiles func(string) *config.Profile
	cmdline  func(*config.Profile) (string, error)
	query    url.Values
}

// line writes one script line.
func (r *renderer) line(format string, args ...any) {
	fmt.Fprintf(&r.buf, format, args...)
	r.buf.WriteByte('\n')
}

// echo writes an echo of text made inert by Text.
func (r *renderer) echo(text string) {
	r.line("echo %s", Text(text))
}

// profile writes the commands of pr under the label "p-NAME". Menus are
// allowed only when menuOK is set (menus do not nest).
func (r *renderer) profile(pr *config.Profile, menuOK bool) error {
	if err := checkLabel(pr.Name); err != nil {
		return err
	}
	if err := checkKind(pr); err != nil {
		return err
	}
	r.line(":%s", sectionLabel(pr.Name))
	switch {
	case pr.Kernel != "":
		return r.kernel(pr)
	case pr.Local:
		r.local()
	case pr.Shell:
		r.shell()
	case pr.Chain != "":
		return r.chain(pr)
	case pr.Script != "":
		return r.scriptItem(pr)
	case pr.Menu != nil && !menuOK:
		return errors.New("menus inside menus are not supported")
	default:
		return r.menu(pr.Menu)
	}
	return nil
}

// checkKind returns an error unless exactly one of kernel, local, shell,
// menu, chain and script is set.
func checkKind(pr *config.Profile) error {
	n := 0
	for _, set := range []bool{pr.Kernel != "", pr.Local, pr.Shell, pr.Menu != nil, pr.Chain != "", pr.Script != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("sets %d of kernel, local, shell, menu, chain and script; exactly one is required", n)
	}
	if pr.Kernel == "" && (len(pr.Initrd) > 0 || pr.Cmdline != "") {
		return errors.New("initrd and cmdline need a kernel")
	}
	return nil
}

// sectionLabel is the label of a profile's commands.
func sectionLabel(name string) string { return "p-" + name }

// stepLabel is the label of one step inside a profile's commands.
func stepLabel(name, step string) string { return "p-" + name + "/" + step }

// initrd is one initrd download.
type initrd struct {
	url  string
	name string
}

// kernel writes the downloads of a kernel profile, each retried until it
// succeeds, then boot. A failed boot starts over from BASE/boot.ipxe.
func (r *renderer) kernel(pr *config.Profile) error {
	kernelURL, err := r.assetURL(pr.Kernel)
	if err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	rds, err := r.initrds(pr.Initrd)
	if err != nil {
		return err
	}
	cmdline := pr.Cmdline
	if r.cmdline != nil {
		if cmdline, err = r.cmdline(pr); err != nil {
			return fmt.Errorf("cmdline: %w", err)
		}
	}
	args, err := r.kernelArgs(cmdline, rds)
	if err != nil {
		return err
	}
	name := pr.Name
	r.line(":%s", stepLabel(name, "kernel"))
	r.line("kernel %s%s || goto %s", kernelURL, args, stepLabel(name, "kernel-retry"))
	for i, rd := range rds {
		r.line(":%s", stepLabel(name, fmt.Sprintf("initrd%d", i)))
		r.line("initrd --name %s %s || goto %s", rd.name, rd.url, stepLabel(name, fmt.Sprintf("initrd%d-retry", i)))
	}
	r.line("boot || goto %s", stepLabel(name, "boot-failed"))
	r.line("goto %s", stepLabel(name, "boot-failed"))
	r.retry(stepLabel(name, "kernel-retry"), kernelURL, stepLabel(name, "kernel"))
	for i, rd := range rds {
		r.retry(stepLabel(name, fmt.Sprintf("initrd%d-retry", i)), rd.url, stepLabel(name, fmt.Sprintf("initrd%d", i)))
	}
	r.bootFailed(stepLabel(name, "boot-failed"))
	return nil
}

// retry writes a block that waits and goes back to the download at target.
func (r *renderer) retry(label, url, target string) {
	r.line(":%s", label)
	r.echo(fmt.Sprintf("rackboot: could not download %s, retrying in %d seconds", url, downloadRetryWait))
	r.line("sleep %d", downloadRetryWait)
	r.line("goto %s", target)
}

// bootFailed writes a block that frees the images and starts over.
func (r *renderer) bootFailed(label string) {
	r.line(":%s", label)
	r.echo(fmt.Sprintf("rackboot: boot failed, starting over in %d seconds", downloadRetryWait))
	r.line("sleep %d", downloadRetryWait)
	r.line("imgfree")
	r.line("chain --replace --autofree %s%s || goto %s", r.base, boot.ScriptPath, label)
}

// assetURL returns the absolute URL of a kernel or initrd: an http(s) URL
// as it is, anything else as a path under BASE/assets/.
func (r *renderer) assetURL(ref string) (string, error) {
	if isHTTP(ref) {
		if err := checkToken("URL", ref); err != nil {
			return "", err
		}
		return ref, nil
	}
	if strings.Contains(ref, "://") {
		return "", fmt.Errorf("%q: only http and https URLs are supported", ref)
	}
	rel, err := assets.Clean(ref)
	if err != nil {
		return "", err
	}
	return r.base + boot.AssetsPath + escapePath(rel), nil
}

// isHTTP reports whether ref is an http or https URL.
func isHTTP(ref string) bool {
	l := strings.ToLower(ref)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// escapePath escapes each element of a slash-separated path.
func escapePath(rel string) string {
	els := strings.Split(rel, "/")
	for i, el := range els {
		els[i] = url.PathEscape(el)
	}
	return strings.Join(els, "/")
}

// initrds resolves the initrd URLs and gives each a unique name: its file
// name when that is a plain word, otherwise "initrdN".
func (r *renderer) initrds(refs []string) ([]initrd, error) {
	out := make([]initrd, 0, len(refs))
	used := map[string]bool{}
	for i, ref := range refs {
		u, err := r.assetURL(ref)
		if err != nil {
			return nil, fmt.Errorf("initrd %d: %w", i, err)
		}
		name := baseName(ref)
		if !initrdName.MatchString(name) || used[name] {
			name = fmt.Sprintf("initrd%d", i)
		}
		if used[name] {
			return nil, fmt.Errorf("initrd %d: name %q is used twice", i, name)
		}
		used[name] = true
		out = append(out, initrd{url: u, name: name})
	}
	return out, nil
}

// baseName returns the last path element of a URL or asset path.
func baseName(ref string) string {
	if isHTTP(ref) {
		if u, err := url.Parse(ref); err == nil {
			return path.Base(u.Path)
		}
	}
	return path.Base(ref)
}

// kernelArgs returns the kernel command line, with a leading space when not
// empty. EFI clients get initrd=NAME for each initrd unless the command line
// already names one: the EFI stub finds its initrds only that way.
func (r *renderer) kernelArgs(cmdline string, rds []initrd) (string, error) {
	if err := CheckArgs(cmdline); err != nil {
		return "", fmt.Errorf("cmdline: %w", err)
	}
	args := strings.Fields(cmdline)
	if r.efi && !hasInitrdArg(args) {
		for _, rd := range rds {
			args = append(args, "initrd="+rd.name)
		}
	}
	if len(args) == 0 {
		return "", nil
	}
	return " " + strings.Join(args, " "), nil
}

// hasInitrdArg reports whether a command line names an initrd itself.
func hasInitrdArg(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "initrd=") {
			return true
		}
	}
	return false
}

// local writes the commands that boot the local disk: EFI firmware gets
// control back with exit and moves on to its next boot entry; BIOS clients
// try the first hard disk with sanboot and fall back to exit.
func (r *renderer) local() {
	r.echo("rackboot: booting from the local disk")
	if !r.efi {
		r.line("sanboot --no-describe --drive 0x80 || exit")
	}
	r.line("exit")
}

// shell writes the commands that drop to the iPXE shell and start over when
// it is left.
func (r *renderer) shell() {
	r.echo("rackboot: starting the iPXE shell; type exit to boot again")
	r.line("shell")
	r.line("chain --replace --autofree %s%s", r.base, boot.ScriptPath)
}

// menu writes an iPXE menu of other profiles followed by their commands.
// Cancelling the menu starts the shell, leaving the shell shows the menu.
func (r *renderer) menu(m *config.Menu) error {
	items, err := r.menuItems(m)
	if err != nil {
		return err
	}
	r.line(":%s", menuLabel)
	r.line("menu %s", optionSafe(Text(m.Title)))
	for _, it := range items {
		r.line("item %s %s", it.Name, it.Name)
	}
	r.line("choose%s selected || goto %s-cancel", chooseOptions(m), menuLabel)
	r.line("goto p-${selected}")
	r.line(":%s-cancel", menuLabel)
	r.echo("rackboot: menu cancelled, starting the iPXE shell; type exit to see the menu again")
	r.line("shell")
	r.line("goto %s", menuLabel)
	for _, it := range items {
		if err := r.profile(it, false); err != nil {
			return fmt.Errorf("menu item %q: %w", it.Name, err)
		}
	}
	return nil
}

// menuItems looks up the profiles a menu lists.
func (r *renderer) menuItems(m *config.Menu) ([]*config.Profile, error) {
	if len(m.Items) == 0 {
		return nil, errors.New("menu has no items")
	}
	if m.Default != "" {
		if err := checkLabel(m.Default); err != nil {
			return nil, fmt.Errorf("menu default: %w", err)
		}
	}
	items := make([]*config.Profile, 0, len(m.Items))
	seen := map[string]bool{}
	for _, name := range m.Items {
		if seen[name] {
			return nil, fmt.Errorf("menu item %q is listed twice", name)
		}
		seen[name] = true
		var p *config.Profile
		if r.profiles != nil {
			p = r.profiles(name)
		}
		if p == nil {
			return nil, fmt.Errorf("menu item %q: no such profile", name)
		}
		q := *p
		q.Name = name
		items = append(items, &q)
	}
	if m.Default != "" && !seen[m.Default] {
		return nil, fmt.Errorf("menu default %q is not one of its items", m.Default)
	}
	return items, nil
}

// chooseOptions returns the --timeout and --default options of choose.
func chooseOptions(m *config.Menu) string {
	var s string
	if ms := time.Duration(m.Timeout).Milliseconds(); ms > 0 {
		s += fmt.Sprintf(" --timeout %d", ms)
	}
	if m.Default != "" {
		s += " --default " + m.Default
	}
	return s
}

// chain writes the commands that replace this script with the one at the
// profile's URL, retrying every few seconds while it cannot be fetched.
func (r *renderer) chain(pr *config.Profile) error {
	if err := checkToken("chain URL", pr.Chain); err != nil {
		return err
	}
	r.chainTo(pr.Name, pr.Chain)
	return nil
}

// scriptItem writes the commands of a script profile shown as a menu item:
// its script is a whole script of its own, so the item chains to
// BASE/ipxe?QUERY&item=NAME, which the server answers with it.
func (r *renderer) scriptItem(pr *config.Profile) error {
	q := url.Values{}
	for k, vs := range r.query {
		q[k] = vs
	}
	q.Set(ItemParam, pr.Name)
	target := r.base + "/ipxe?" + q.Encode()
	if err := checkToken("item URL", target); err != nil {
		return err
	}
	r.chainTo(pr.Name, target)
	return nil
}

// chainTo writes a chain to target under the profile's "chain" step, with
// a retry block.
func (r *renderer) chainTo(name, target string) {
	r.echo("rackboot: chaining to " + target)
	r.line(":%s", stepLabel(name, "chain"))
	r.line("chain --replace --autofree %s || goto %s", target, stepLabel(name, "chain-retry"))
	r.line("goto %s", stepLabel(name, "chain-retry"))
	r.retry(stepLabel(name, "chain-retry"), target, stepLabel(name, "chain"))
}

// AssetURL returns the absolute URL of a kernel, initrd or other asset
// reference as the scripts use it: an http(s) URL as it is, anything else
// as a path under BASE/assets/. baseURL is the server's http://host:port.
func AssetURL(baseURL, ref string) (string, error) {
	r := &renderer{base: strings.TrimRight(baseURL, "/")}
	return r.assetURL(ref)
}
