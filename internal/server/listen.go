package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/dataapi"
	"github.com/sqlgate/sqlgate/internal/lane"
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
		h := &handler{s: s}
		if s.cfg.Listen.Lean() {
			l = s.leanListener(l, h)
		}
		s.addListener(l, h)
		s.log.Info("listening", "proto", "http", "addr", l.Addr().String(), "lean", s.cfg.Listen.Lean())
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
		var tl net.Listener = tls.NewListener(l, cr.Config())
		h := &handler{s: s, secure: true}
		if s.cfg.Listen.Lean() {
			tl = s.leanListener(tl, h)
		}
		s.addListener(tl, h)
		s.log.Info("listening", "proto", "https", "addr", l.Addr().String(), "cert", cr.CertFile(), "lean", s.cfg.Listen.Lean())
	}
	if err := s.listenWorkloads(); err != nil {
		s.closeListenersLocked()
		return err
	}
	return nil
}

// The HTTP listeners' limits (net/http's and the lean path's).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

func (s *Server) addListener(l net.Listener, h http.Handler) {
	s.listeners = append(s.listeners, l)
	s.httpSrvs = append(s.httpSrvs, &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout(s.cfg),
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          nil,
	})
}

// leanListener puts the lean HTTP/1.1 path (internal/lane) in front of
// l: the Data API's POSTs are served by it, everything else by net/http
// on the same connection.
func (s *Server) leanListener(l net.Listener, h http.Handler) *lane.Listener {
	paths := make([]string, 0, len(dataapi.Actions))
	for p := range dataapi.Actions {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return lane.New(l, lane.Config{Handler: h, Paths: paths,
		ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout(s.cfg),
		IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes, MaxBodyBytes: MaxBodyBytes})
}

// LeanListener wraps l like the plain-HTTP listener (for tests serving
// the handler on their own listener); Shutdown it after the http.Server.
func (s *Server) LeanListener(l net.Listener, secure bool) *lane.Listener {
	return s.leanListener(l, &handler{s: s, secure: secure})
}

// drainLean waits for the lean listeners' connections after the
// http.Servers shut down (which closed the listeners).
func (s *Server) drainLean(ctx context.Context) {
	for _, l := range s.listeners {
		if ll, ok := l.(*lane.Listener); ok {
			_ = ll.Shutdown(ctx)
		}
	}
}

// writeMargin is what a response may take beyond its slowest statement:
// decoding, authorization and encoding the result.
const writeMargin = 30 * time.Second

// writeTimeout is the HTTP write timeout: the longest a call can wait for
// a connection and run its statement (the largest cluster borrow_timeout
// plus statement_timeout), plus writeMargin, so a statement timeout is
// always answered before the server gives up on the response.
func writeTimeout(cfg *config.Config) time.Duration {
	longest := time.Duration(0)
	for _, cl := range cfg.Clusters {
		longest = max(longest, cl.Limits.BorrowTimeout+cl.Limits.StatementTimeout)
	}
	return longest + writeMargin
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
