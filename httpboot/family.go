package httpboot

import (
	"net"
	"net/http"
)

// forFamily is the server as a request sees it: one that arrived on an
// IPv6 connection gets the IPv6 base URL in every URL it is sent (scripts,
// kernels, initrds, configs), when one is set.
func (s *Server) forFamily(r *http.Request) *Server {
	if s.baseURL6 == "" || !cameOverIPv6(r) {
		return s
	}
	c := *s
	c.baseURL = s.baseURL6
	return &c
}

// cameOverIPv6 reports whether r's connection is IPv6 (an IPv4-mapped
// address on a dual-stack socket is IPv4).
func cameOverIPv6(r *http.Request) bool {
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	tcp, ok := la.(*net.TCPAddr)
	return ok && tcp.IP.To4() == nil
}
