package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sqlgate/sqlgate/internal/tlscert"
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
		cr, err := tlscert.Open(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile, s.cfg.DataDir, "tls", "sqlgate self-signed")
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
		tl := tls.NewListener(l, cr.Config())
		s.addListener(tl, &handler{s: s, secure: true})
		s.log.Info("listening", "proto", "https", "addr", l.Addr().String(), "cert", cr.CertFile())
	}
	if err := s.listenWorkloads(); err != nil {
		s.closeListenersLocked()
		return err
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
		errs = append(errs, cr.Load())
	}
	for _, fe := range fes {
		if err := fe.Core().ReloadTLS(); err != nil {
			errs = append(errs, fmt.Errorf("proxy %s: %w", fe.Core().Cluster(), err))
		}
	}
	return errors.Join(errs...)
}
