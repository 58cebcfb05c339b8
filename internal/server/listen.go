package server

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
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// listen binds the HTTP and HTTPS listeners; any failure closes them all.
func (s *Server) listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.cfg.Listen.HTTP; a != "" {
		l, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("listen.http: %w", err)
		}
		s.addListener(l, &handler{s: s})
		s.log.Info("listening", "proto", "http", "addr", l.Addr().String())
	}
	if a := s.cfg.Listen.HTTPS; a != "" {
		cr, err := newCertReloader(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile, s.cfg.DataDir)
		if err != nil {
			s.closeListenersLocked()
			return fmt.Errorf("tls: %w", err)
		}
		s.tlsCert = cr
		l, err := net.Listen("tcp", a)
		if err != nil {
			s.closeListenersLocked()
			return fmt.Errorf("listen.https: %w", err)
		}
		tl := tls.NewListener(l, &tls.Config{GetCertificate: cr.get, MinVersion: tls.VersionTLS12})
		s.addListener(tl, &handler{s: s, secure: true})
		s.log.Info("listening", "proto", "https", "addr", l.Addr().String(), "cert", cr.certFile)
	}
	return nil
}

func (s *Server) addListener(l net.Listener, h http.Handler) {
	s.listeners = append(s.listeners, l)
	s.httpSrvs = append(s.httpSrvs, &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second, // above the 45 s statement timeout
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	})
}

func (s *Server) closeListenersLocked() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
	s.listeners, s.httpSrvs = nil, nil
}

// ReloadTLS re-reads the HTTPS and proxy certificate files (SIGHUP).
// Connections in flight keep their certificate; new handshakes get the new
// one. A proxy whose files fail to load keeps its old certificate.
func (s *Server) ReloadTLS() error {
	s.mu.Lock()
	cr := s.tlsCert
	fes := s.proxies
	s.mu.Unlock()
	var errs []error
	if cr != nil {
		errs = append(errs, cr.load())
	}
	for _, fe := range fes {
		if err := fe.Core().ReloadTLS(); err != nil {
			errs = append(errs, fmt.Errorf("proxy %s: %w", fe.Core().Cluster(), err))
		}
	}
	return errors.Join(errs...)
}

// certReloader serves the current certificate to TLS handshakes.
type certReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex // guards cert
	cert              *tls.Certificate
}

// newCertReloader loads cert/key, or generates a self-signed pair into
// dataDir when both are empty.
func newCertReloader(certFile, keyFile, dataDir string) (*certReloader, error) {
	if certFile == "" && keyFile == "" {
		certFile, keyFile = filepath.Join(dataDir, "tls-cert.pem"), filepath.Join(dataDir, "tls-key.pem")
		if err := ensureSelfSigned(certFile, keyFile); err != nil {
			return nil, err
		}
	}
	cr := &certReloader{certFile: certFile, keyFile: keyFile}
	return cr, cr.load()
}

func (c *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load certificate: %w", err)
	}
	c.mu.Lock()
	c.cert = &cert
	c.mu.Unlock()
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}

// ensureSelfSigned writes a self-signed ECDSA certificate for localhost,
// 127.0.0.1 and ::1 unless the files exist.
func ensureSelfSigned(certFile, keyFile string) error {
	if _, err := os.Stat(certFile); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sqlgate self-signed"},
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
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
