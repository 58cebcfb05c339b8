// Package tlscert serves a TLS certificate that can be reloaded without
// dropping connections (SIGHUP): the configured PEM files, or a
// self-signed certificate for localhost and the loopback addresses,
// generated once into the data dir so TLS is always on offer and
// AWS_CA_BUNDLE / sslrootcert can point at it.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Store holds the current certificate; handshakes read it, Load replaces it.
type Store struct {
	certFile, keyFile string
	mu                sync.RWMutex // guards cert
	cert              *tls.Certificate
}

// Open loads certFile/keyFile, or — both empty — generates (once) a
// self-signed pair named PREFIX-cert.pem / PREFIX-key.pem in dataDir.
func Open(certFile, keyFile, dataDir, prefix, commonName string) (*Store, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("cert_file and key_file must be set together")
	}
	if certFile == "" {
		certFile, keyFile = filepath.Join(dataDir, prefix+"-cert.pem"), filepath.Join(dataDir, prefix+"-key.pem")
		if err := EnsureSelfSigned(certFile, keyFile, commonName); err != nil {
			return nil, fmt.Errorf("generate self-signed certificate: %w", err)
		}
	}
	s := &Store{certFile: certFile, keyFile: keyFile}
	return s, s.Load()
}

// CertFile is the certificate's path (for AWS_CA_BUNDLE with a
// self-signed one).
func (s *Store) CertFile() string { return s.certFile }

// Load re-reads the files; handshakes in flight keep the old certificate.
func (s *Store) Load() error {
	cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		return fmt.Errorf("load certificate: %w", err)
	}
	s.mu.Lock()
	s.cert = &cert
	s.mu.Unlock()
	return nil
}

// GetCertificate is a tls.Config.GetCertificate callback.
func (s *Store) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cert, nil
}

// Config returns a server tls.Config (TLS 1.2+) serving the current certificate.
func (s *Store) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.GetCertificate}
}

// EnsureSelfSigned writes an ECDSA P-256 certificate for localhost, the
// host name and the loopback addresses, valid 5 years, unless certFile
// exists. The key file is written with mode 0600.
func EnsureSelfSigned(certFile, keyFile, commonName string) error {
	if _, err := os.Stat(certFile); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", host},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
