package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	for _, tt := range []struct {
		path, wantType, wantBody string
		code                     int
	}{
		{"/", "text/html", `<script src="/ui/app.js"`, 200},
		{"/ui/", "text/html", `id="machines"`, 200},
		{"/ui/app.js", "javascript", `new EventSource("/api/v1/events")`, 200},
		{"/ui/style.css", "text/css", ".state", 200},
		{"/ui/nothere.js", "text/plain", "404", 404},
		{"/elsewhere", "text/plain", "404", 404},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
		if w.Code != tt.code || !strings.Contains(w.Header().Get("Content-Type"), tt.wantType) || !strings.Contains(w.Body.String(), tt.wantBody) {
			t.Errorf("GET %s = %d %q, body %.80q; want %d %s with %q", tt.path, w.Code, w.Header().Get("Content-Type"), w.Body.String(), tt.code, tt.wantType, tt.wantBody)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d", w.Code)
	}
}

// TestNoExternalResources: the page loads nothing from another origin.
func TestNoExternalResources(t *testing.T) {
	for _, f := range []string{"static/index.html", "static/app.js", "static/style.css"} {
		b, err := static.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s refers to %q", f, bad)
			}
		}
	}
}
