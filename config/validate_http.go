package config

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// http checks the keys the HTTP server uses: server.signing_key and each
// profile's chain URL and template files (script, ignition, cloud_config,
// generic). Template files must exist when the inventory is loaded, so a
// typo shows at start-up rather than as a failed boot.
func (v *validator) http() {
	if k := v.cfg.Server.SigningKey; k != "" {
		v.readableFile("server.signing_key", k)
	}
	for _, name := range v.profileNames() {
		pr := v.cfg.Profiles[name]
		p := keyPath("profiles", name)
		if pr.Chain != "" {
			v.chainURL(keyPath(p, "chain"), pr.Chain)
		}
		for _, t := range []struct{ key, ref string }{
			{"script", pr.Script}, {"ignition", pr.Ignition},
			{"cloud_config", pr.CloudConfig}, {"generic", pr.Generic},
		} {
			if t.ref != "" {
				v.templateFile(keyPath(p, t.key), t.ref)
			}
		}
	}
}

// chainURL checks a chain target: an http, https or tftp URL with a host
// and no whitespace (it is one argument of iPXE's chain command).
func (v *validator) chainURL(p, ref string) {
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tftp") {
		v.errorf(p, "%q is not an http://, https:// or tftp:// URL", ref)
		return
	}
	if strings.ContainsFunc(ref, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		v.errorf(p, "%q contains spaces or control characters; escape them (%%20)", ref)
	}
}

// templateFile checks a template path: relative, inside server.assets, and
// an existing regular file that does not lead out of the folder through a
// symlink.
func (v *validator) templateFile(p, ref string) {
	assets := v.cfg.Server.Assets
	switch {
	case strings.Contains(ref, "://"):
		v.errorf(p, "%q is a URL; templates are files under server.assets", ref)
		return
	case path.IsAbs(ref) || strings.HasPrefix(ref, `\`):
		v.errorf(p, "%q is an absolute path; give a path relative to server.assets", ref)
		return
	case hasDotDot(ref) || strings.ContainsAny(ref, "\\\x00"):
		v.errorf(p, "%q contains \"..\", a backslash or NUL; paths must stay inside server.assets", ref)
		return
	case assets == "":
		v.errorf(p, "%q is a file in the assets folder, but server.assets is not set", ref)
		return
	}
	if msg := fileInTree(assets, ref); msg != "" {
		v.errorf(p, "%s", msg)
	}
}

// fileInTree says what is wrong with the file rel under root, or "".
func fileInTree(root, rel string) string {
	full := filepath.Join(root, filepath.FromSlash(rel))
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Sprintf("server.assets folder %s: %v", root, err)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return fmt.Sprintf("file %s does not exist", full)
	}
	if !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
		return fmt.Sprintf("file %s leads out of server.assets (to %s)", full, real)
	}
	if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
		return fmt.Sprintf("%s is not a regular file", full)
	}
	return ""
}

// readableFile checks that name is a regular file this process can read.
// It stats before opening so that a FIFO or device never blocks start-up.
func (v *validator) readableFile(p, name string) {
	st, err := os.Stat(name)
	if err != nil {
		v.errorf(p, "cannot read %s: %v", name, err)
		return
	}
	if !st.Mode().IsRegular() {
		v.errorf(p, "%s is not a regular file", name)
		return
	}
	f, err := os.Open(name)
	if err != nil {
		v.errorf(p, "cannot read %s: %v", name, err)
		return
	}
	f.Close()
}
