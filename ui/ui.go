// Package ui is rackboot's web dashboard: plain HTML, CSS and JavaScript
// embedded in the binary (no build step, nothing fetched from elsewhere).
// It reads the API of package api: the machines table updates live from
// /api/v1/events, a machine's page shows its timeline, a panel the leases
// per subnet. docs/observe.md describes it.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is where the static files are served; "/" serves the page too.
const Prefix = "/ui/"

// Handler serves the dashboard page at / and at /ui/, and its files under
// /ui/. Anything else under /ui/ is a 404.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	fileServer := http.StripPrefix(Prefix, http.FileServerFS(files))
	page, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
		switch {
		case r.URL.Path == "/" || r.URL.Path == Prefix || r.URL.Path == Prefix+"index.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.Write(page)
		case strings.HasPrefix(r.URL.Path, Prefix):
			w.Header().Set("Cache-Control", "no-cache")
			fileServer.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
