package config

import (
	"slices"
	"testing"
)

func TestChanged(t *testing.T) {
	base := `
listen:
  http: 127.0.0.1:8080
clusters:
  - name: orders
    engine: postgres
    address: 127.0.0.1:5432
    max_connections: 20
    proxy:
      name: orders-proxy
      listen: 127.0.0.1:6432
      auth_secrets: [orders]
  - name: reports
    engine: mysql
    address: 127.0.0.1:3306
`
	tests := []struct {
		name string
		next string
		want []string
	}{
		{"same", base, nil},
		{"reordered clusters", `
listen:
  http: 127.0.0.1:8080
clusters:
  - name: reports
    engine: mysql
    address: 127.0.0.1:3306
  - name: orders
    engine: postgres
    address: 127.0.0.1:5432
    max_connections: 20
    proxy:
      name: orders-proxy
      listen: 127.0.0.1:6432
      auth_secrets: [orders]
`, nil},
		{"fields", `
listen:
  http: 127.0.0.1:9090
clusters:
  - name: orders
    engine: postgres
    address: 127.0.0.1:5433
    max_connections: 30
    proxy:
      name: orders-proxy
      listen: 127.0.0.1:6432
      auth_secrets: [orders, other]
      idle_client_timeout: 5m
  - name: reports
    engine: mysql
    address: 127.0.0.1:3306
`, []string{"clusters[orders].address", "clusters[orders].max_connections",
			"clusters[orders].proxy.auth_secrets", "clusters[orders].proxy.idle_client_timeout", "listen.http"}},
		{"added and removed", `
listen:
  http: 127.0.0.1:8080
clusters:
  - name: orders
    engine: postgres
    address: 127.0.0.1:5432
    max_connections: 20
  - name: audit
    engine: sqlite
`, []string{"clusters[audit]", "clusters[orders].proxy", "clusters[reports]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParse(t, base), mustParse(t, tt.next)
			got := Changed(a, b)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Changed = %q, want %q", got, tt.want)
			}
		})
	}
}

func mustParse(t *testing.T, y string) *Config {
	t.Helper()
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}
