package httpboot

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rackboot/rackboot/assets"

	"github.com/rackboot/rackboot/boot"
)

// serveAsset serves /assets/PATH from the assets store with
// http.ServeContent: Range (206, 416), If-Modified-Since, If-None-Match
// and If-Range against the ETag set here, and HEAD. Unsafe paths get 403,
// checked on the decoded path by assets.Clean (and, for symlinks, by the
// store) and on the raw path here, so encoded and double-encoded dot-dots
// and slashes (%2e%2e, %252e%252e, %2f, %5c) are refused too.
//
// A file of the assets folder reaches ServeContent as its *os.File, so a
// full response and a single range go out with sendfile(2) (net/http's
// TCPConn.ReadFrom path); a multi-range response is built in a pipe and is
// copied through user space.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	if rawUnsafe(r.URL.EscapedPath()) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, boot.AssetsPath)
	if name == "" {
		http.NotFound(w, r)
		return
	}
	if s.assets == nil {
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
	w.Header().Set("ETag", etag(f.Size, f.ModTime))
	if strings.HasSuffix(f.Name, ".img") {
		// UEFI HTTP Boot mounts a disk image of this type as a RAM disk
		// (the Secure Boot image, boot.SecureBootImage).
		w.Header().Set("Content-Type", "application/vnd.efi-img")
	}
	writeDeadline(w, transferTime(f.Size))
	http.ServeContent(w, r, f.Name, f.ModTime, content(f))
}

// content returns the *os.File behind an asset when there is one, so that
// net/http can use sendfile; otherwise the asset itself.
func content(f *assets.File) io.ReadSeeker {
	if osf, ok := f.ReadSeeker.(*os.File); ok {
		return osf
	}
	return f
}

// etag is a strong validator from size and modification time: a file
// replaced in place gets a new one.
func etag(size int64, mod time.Time) string {
	return fmt.Sprintf(`"%x-%x"`, size, mod.UnixNano())
}

// transferTime is the write deadline for a file of size bytes: enough at
// minTransferRate, plus slack.
func transferTime(size int64) time.Duration {
	return fileWriteSlack + time.Duration(size/minTransferRate)*time.Second
}

// rawUnsafe reports whether an escaped URL path has an element that
// decodes, once or twice, to "." or "..", or hides a slash, backslash or
// NUL in an escape.
func rawUnsafe(escaped string) bool {
	for _, el := range strings.Split(escaped, "/") {
		dec := el
		for range 2 {
			d, err := url.PathUnescape(dec)
			if err != nil || d == "." || d == ".." || strings.ContainsAny(d, "/\\\x00") {
				return true
			}
			dec = d
		}
	}
	return false
}
