package httpboot

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/rackboot/rackboot/assets"
)

// serveAsset serves /assets/PATH from the assets store with
// http.ServeContent (Range, If-Modified-Since, HEAD). Unsafe paths get 403,
// checked on the decoded path by assets.Clean and on the raw path here, so
// encoded dot-dots and slashes (%2e%2e, %2f, %5c) are refused too.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	if rawUnsafe(r.URL.EscapedPath()) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/assets/")
	if name == "" {
		http.NotFound(w, r)
		return
	}
	f, err := s.assets.Open(name)
	switch {
	case errors.Is(err, assets.ErrUnsafe):
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	http.ServeContent(w, r, f.Name, f.ModTime, f)
}

// rawUnsafe reports whether an escaped URL path has an element that
// decodes to "." or "..", or hides a slash, backslash or NUL in an escape.
func rawUnsafe(escaped string) bool {
	for _, el := range strings.Split(escaped, "/") {
		dec, err := url.PathUnescape(el)
		if err != nil || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\\x00") {
			return true
		}
	}
	return false
}
