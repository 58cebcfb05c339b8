package tlscert

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
)

func TestStore_Open(t *testing.T) {
	dir := t.TempDir()
	s, err := Open("", "", dir, "tls", "test")
	if err != nil {
		t.Fatal(err)
	}
	if s.CertFile() != filepath.Join(dir, "tls-cert.pem") {
		t.Fatalf("cert file %s", s.CertFile())
	}
	st, err := os.Stat(filepath.Join(dir, "tls-key.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	first, _ := s.GetCertificate(&tls.ClientHelloInfo{})
	// A second Open reuses the generated pair; Load re-reads it.
	s2, err := Open("", "", dir, "tls", "test")
	if err != nil {
		t.Fatal(err)
	}
	second, _ := s2.GetCertificate(&tls.ClientHelloInfo{})
	if string(first.Certificate[0]) != string(second.Certificate[0]) {
		t.Fatal("certificate regenerated")
	}
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if s.Config().MinVersion != tls.VersionTLS12 {
		t.Fatal("TLS 1.2 minimum")
	}
	if _, err := Open(filepath.Join(dir, "tls-cert.pem"), "", dir, "x", "x"); err == nil {
		t.Fatal("cert without key accepted")
	}
}
