package httpboot

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// logRequests logs every request once, at Info, when it is done: method,
// path, status, bytes, remote, duration, mac, and any fields the handler
// added with annotate. mac is the query's, or else the one the last request
// from the same client address named (so kernel and initrd downloads carry
// the MAC of the machine whose script pointed at them).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK, fields: logrus.Fields{}}
		next.ServeHTTP(rec, r)
		fields := logrus.Fields{
			"method":   r.Method,
			"path":     r.URL.EscapedPath(),
			"status":   rec.status,
			"bytes":    rec.bytes,
			"remote":   r.RemoteAddr,
			"duration": time.Since(start),
		}
		if mac := r.URL.Query().Get(paramMAC); mac != "" {
			fields["mac"] = mac
			if hw, err := net.ParseMAC(mac); err == nil {
				s.macs.remember(r.RemoteAddr, hw.String())
			}
		} else if mac := s.macs.lookup(r.RemoteAddr); mac != "" {
			fields["mac"] = mac
		}
		for k, v := range rec.fields {
			fields[k] = v
		}
		s.log.WithFields(fields).Info("http request")
	})
}

// annotate adds a field to the request's log line; it does nothing when w
// does not come from logRequests.
func annotate(w http.ResponseWriter, key string, value any) {
	if rec, ok := w.(*recorder); ok {
		rec.fields[key] = value
	}
}

// recorder remembers the status and body size of a response.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	fields      logrus.Fields
}

func (rec *recorder) WriteHeader(code int) {
	if !rec.wroteHeader {
		rec.status, rec.wroteHeader = code, true
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	rec.wroteHeader = true
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile path for large assets.
func (rec *recorder) ReadFrom(src io.Reader) (int64, error) {
	rec.wroteHeader = true
	var n int64
	var err error
	if rf, ok := rec.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(rec.ResponseWriter, src)
	}
	rec.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// macBookSize bounds the client addresses remembered for logging.
const macBookSize = 4096

// macBook remembers which MAC each client address last named, for the
// log lines of requests that carry none. It holds at most size entries;
// when full, it forgets everything and starts again (only log lines lose
// their mac, never a boot).
type macBook struct {
	mu   sync.Mutex
	size int
	byIP map[string]string
}

func newMACBook(size int) *macBook {
	return &macBook{size: size, byIP: map[string]string{}}
}

// remember records that remote (host:port) named mac.
func (b *macBook) remember(remote, mac string) {
	host := hostOf(remote)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.byIP[host]; !ok && len(b.byIP) >= b.size {
		clear(b.byIP)
	}
	b.byIP[host] = mac
}

// lookup returns the MAC remote's address last named, or "".
func (b *macBook) lookup(remote string) string {
	host := hostOf(remote)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byIP[host]
}

// hostOf strips the port from a host:port address.
func hostOf(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}
