package httpboot

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rackboot/rackboot/boot"
	"github.com/rackboot/rackboot/config"
	"github.com/rackboot/rackboot/events"
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
		mac := ""
		if q := r.URL.Query().Get(paramMAC); q != "" {
			mac = q
			if hw, err := net.ParseMAC(q); err == nil {
				mac = hw.String()
				s.macs.remember(r.RemoteAddr, mac)
			}
		} else {
			mac = s.macs.lookup(r.RemoteAddr)
		}
		if mac != "" {
			fields["mac"] = mac
		}
		for k, v := range rec.fields {
			fields[k] = v
		}
		s.log.WithFields(fields).Info("http request")
		s.emit(r, rec, mac, time.Since(start))
		if s.requests != nil {
			s.requests(Endpoint(r.URL.Path), rec.status, rec.bytes)
		}
	})
}

// emit tells the event sink about a machine's request (a script, config or
// asset; not the API or the dashboard).
func (s *Server) emit(r *http.Request, rec *recorder, mac string, took time.Duration) {
	if s.events == nil || !rec.machine {
		return
	}
	ev := events.Event{
		Time: time.Now(), Kind: events.KindHTTP, File: r.URL.Path, Step: rec.step, Status: rec.status,
		Bytes: rec.bytes, Duration: took, Profile: rec.profile, Kernel: rec.kernel, Initrd: rec.initrd,
		Via: rec.via, Group: rec.group,
	}
	if mac != "" {
		ev.MAC, _ = events.ParseMAC(mac)
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ev.Addr = ap.Addr().Unmap()
	}
	s.events.Emit(ev)
}

// markStep says that the request is a machine's, and what step of a boot.
func markStep(w http.ResponseWriter, step events.Step) {
	if rec, ok := w.(*recorder); ok {
		rec.machine, rec.step = true, step
	}
}

// noteProfile records the profile a script was rendered from, for the
// request's event: the timeline learns the kernel and initrd names from it.
func noteProfile(w http.ResponseWriter, p *config.Profile, d boot.Decision) {
	if rec, ok := w.(*recorder); ok && p != nil {
		rec.profile, rec.kernel, rec.initrd = p.Name, p.Kernel, strings.Join(p.Initrd, " ")
		rec.via, rec.group = d.Source.String(), d.Group
	}
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
	// For the request's event: a machine's request, its step, the profile.
	machine                 bool
	step                    events.Step
	profile, kernel, initrd string
	via, group              string
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
