package proxy

import (
	"os"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/tlscert"
)

// openCerts serves the proxy certificate: the configured files, or a
// self-signed certificate generated once into the data dir
// (proxy-tls-cert.pem, proxy-tls-key.pem) so TLS is always on offer.
func openCerts(files config.TLSFiles, dataDir string) (*tlscert.Store, error) {
	if dataDir == "" {
		dataDir = os.TempDir()
	}
	return tlscert.Open(files.CertFile, files.KeyFile, dataDir, "proxy-tls", "sqlgate proxy self-signed")
}
