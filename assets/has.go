package assets

// Has reports whether Open(name) would find a file, so DHCP offers only
// boot programs that can be served.
func (s *Store) Has(name string) bool {
	f, err := s.Open(name)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
