package httpboot

import (
	"io"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
)

// logRequests logs every request once, at Info, when it is done: method,
// path, status, bytes, remote, duration, mac when the query named one, and
// any fields the handler added with annotate.
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
