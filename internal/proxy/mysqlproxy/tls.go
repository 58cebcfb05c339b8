package mysqlproxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"

	"github.com/sqlgate/sqlgate/internal/config"
)

// backendTLS returns the TLS configuration for database connections from
// the cluster's tls block (disable | require | verify-full).
func backendTLS(cl config.Cluster) (*tls.Config, error) {
	switch cl.TLS.Mode {
	case "", "disable":
		return nil, nil
	case "require":
		return &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}, nil //nolint:gosec // mode require: encrypt without verifying, like sslmode=require
	case "verify-full":
		host, _, err := net.SplitHostPort(cl.Address)
		if err != nil {
			return nil, fmt.Errorf("mysql proxy tls: %w", err)
		}
		c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
		if cl.TLS.CAFile != "" {
			pem, err := os.ReadFile(cl.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("mysql proxy tls: read ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("mysql proxy tls: no certificates in %s", cl.TLS.CAFile)
			}
			c.RootCAs = pool
		}
		return c, nil
	}
	return nil, fmt.Errorf("mysql proxy tls: unknown mode %q", cl.TLS.Mode)
}
