package boot

import (
	"fmt"
	"net/netip"
)

// URL paths of the HTTP server that boot replies point at; httpboot serves
// them and nothing else spells them.
const (
	// ScriptPath is iPXE's static entry script, which chains to the
	// per-machine script with iPXE's own view of the machine.
	ScriptPath = "/boot.ipxe"
	// AssetsPath is the folder of kernels, initrds and boot programs.
	AssetsPath = "/assets/"
)

// Server is what boot replies tell clients about this server.
type Server struct {
	// Addr is the address clients use for TFTP and HTTP.
	Addr     netip.Addr
	HTTPPort int
	// Has reports whether a boot program can be served; nil means every
	// program can.
	Has func(name string) bool
}

// BaseURL is http://host:port of the HTTP server, with an IPv6 address in
// brackets.
func (s Server) BaseURL() string {
	return "http://" + netip.AddrPortFrom(s.Addr, uint16(s.HTTPPort)).String()
}

// ScriptURL is the URL iPXE is sent to.
func (s Server) ScriptURL() string { return s.BaseURL() + ScriptPath }

// AssetURL is the URL of a file under AssetsPath.
func (s Server) AssetURL(name string) string {
	return fmt.Sprintf("%s%s%s", s.BaseURL(), AssetsPath, name)
}

func (s Server) has(name string) bool { return s.Has == nil || s.Has(name) }
