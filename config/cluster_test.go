package config

import (
	"testing"
	"time"
)

func TestClusterErrors(t *testing.T) {
	const etcd = "server:\n  store: etcd://10.0.0.1:2379\n"
	tests := []struct{ name, src, want string }{
		{"store not a URL", "server:\n  store: /var/lib/x\n",
			`x.yaml:2: server.store: store "/var/lib/x": not an etcd:// URL (leave it out for the write-ahead log in data_dir)`},
		{"store bad port", "server:\n  store: etcd://a:99999/p\n",
			`x.yaml:2: server.store: store "etcd://a:99999/p": host "a:99999": port "99999" is not a number from 1 to 65535 (leave it out for the write-ahead log in data_dir)`},
		{"tls without etcd", "server:\n  store_tls: {ca: ca.pem}\n", `x.yaml:2: server.store_tls: needs server.store: etcd://…`},
		{"tls cert without key", etcd + "  store_tls:\n    cert: c.pem\n", `x.yaml:3: server.store_tls: cert and key go together (got cert "c.pem", key "")`},
		{"tls empty", etcd + "  store_tls: {}\n", `x.yaml:3: server.store_tls: names no file (ca, cert, key)`},
		{"cluster without etcd", "cluster:\n  member: a\n", `x.yaml:1: cluster: needs server.store: etcd://… (instances share their work through etcd)`},
		{"takeover too short", etcd + "cluster:\n  takeover: 1s\n", `x.yaml:4: cluster.takeover: 1s is out of range (3s-10m0s; default 5s)`},
		{"member name", etcd + "cluster:\n  member: a/b\n", `x.yaml:4: cluster.member: "a/b": '/' is not allowed (letters, digits, '-', '_', '.')`},
		{"unknown key", etcd + "cluster:\n  takover: 5s\n", `x.yaml:4: cluster.takover: unknown key (did you mean "takeover"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrors(t, tt.src); got != tt.want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestClusterDefaults(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte("server:\n  store: etcd://a,b/lab\n  store_tls: {ca: ca.pem, cert: c.pem, key: k.pem}\ncluster:\n  member: rb-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Server.IsEtcd() || cfg.Cluster.Member != "rb-1" || time.Duration(cfg.Cluster.Takeover) != 5*time.Second || cfg.Server.StoreTLS.Key != "k.pem" {
		t.Errorf("got server %+v cluster %+v", cfg.Server, cfg.Cluster)
	}
	plain, err := Parse("x.yaml", []byte("server: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Server.IsEtcd() || plain.Server.Store != "" {
		t.Errorf("without server.store the WAL must stay the store: %+v", plain.Server)
	}
}
