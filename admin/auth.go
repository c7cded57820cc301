package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/internal/logx"
)

// TokenEnv is the environment variable that holds the admin token.
const TokenEnv = "RACKBOOT_ADMIN_TOKEN"

// Auth checks the bearer token in front of /api/: writes always need it,
// reads only when ReadToken is set. Without a token the write API is
// off.
type Auth struct {
	sum       *[sha256.Size]byte // the token's hash; nil: no token configured
	readToken bool
	open      map[string]bool // paths any client may use without a token
	log       logrus.FieldLogger
}

// LoadToken returns the admin token: RACKBOOT_ADMIN_TOKEN when set, else
// the first line of file (server.admin_token_file) when given, else "".
func LoadToken(file string) (string, error) {
	if t := strings.TrimSpace(os.Getenv(TokenEnv)); t != "" {
		return t, nil
	}
	if file == "" {
		return "", nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("server.admin_token_file: %w", err)
	}
	t, _, _ := strings.Cut(string(data), "\n")
	if t = strings.TrimSpace(t); t == "" {
		return "", fmt.Errorf("server.admin_token_file: %s is empty", file)
	}
	return t, nil
}

// NewAuth returns the check for token ("" for none). The paths in open
// take no token at all: the booted machines' own POST /api/v1/report.
func NewAuth(token string, readToken bool, log logrus.FieldLogger, open ...string) *Auth {
	a := &Auth{readToken: readToken, log: logx.OrDiscard(log), open: map[string]bool{}}
	for _, p := range open {
		a.open[p] = true
	}
	if token != "" {
		s := sha256.Sum256([]byte(token))
		a.sum = &s
	}
	return a
}

// Enabled reports whether a token is configured.
func (a *Auth) Enabled() bool { return a.sum != nil }

// Wrap puts the check in front of h.
func (a *Auth) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write := r.Method != http.MethodGet && r.Method != http.MethodHead
		if a.open[r.URL.Path] || !write && !a.readToken {
			h.ServeHTTP(w, r)
			return
		}
		if a.sum == nil {
			what := "the admin API is off"
			if !write {
				what = "server.api_read_token is set but no token is configured"
			}
			httpError(w, http.StatusForbidden, what+": set server.admin_token_file (a file holding the token) or "+TokenEnv+" and restart rackboot")
			return
		}
		if !a.check(r) {
			a.log.WithFields(logrus.Fields{"remote": r.RemoteAddr, "method": r.Method, "path": r.URL.Path,
				"token": presence(r)}).Warn("admin API: refused, missing or wrong bearer token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="rackboot"`)
			httpError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer TOKEN")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// check compares the request's bearer token with the configured one in
// constant time (both hashed first, so lengths do not leak either).
func (a *Auth) check(r *http.Request) bool {
	tok, ok := bearer(r)
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], a.sum[:]) == 1
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// presence says whether a token was sent, never the token.
func presence(r *http.Request) string {
	if _, ok := bearer(r); ok {
		return "wrong"
	}
	return "missing"
}
