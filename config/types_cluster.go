package config

// StoreTLS is server.store_tls: PEM files for a TLS connection to etcd
// with a client certificate.
type StoreTLS struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Cluster configures an instance that shares the DHCP clients of its
// segment with others (server.store must be an etcd URL).
type Cluster struct {
	// Member names this instance in the member list; default: the host
	// name.
	Member string `yaml:"member"`
	// Takeover bounds how long a dead member's clients go unanswered.
	Takeover Duration `yaml:"takeover"`
}
