package server

import (
	"context"
	"errors"
)

// frontEnd is a proxy endpoint (PostgreSQL or MySQL protocol).
type frontEnd interface {
	Shutdown(ctx context.Context) error
}

// errNoProxy is returned while the proxy front ends are not part of the build.
var errNoProxy = errors.New("clusters[].proxy: the connection-pooling proxy is not available in this build")

// startProxies starts the configured proxy endpoints.
func (s *Server) startProxies(context.Context) error {
	for _, c := range s.cfg.Clusters {
		if c.Proxy != nil {
			return errNoProxy
		}
	}
	return nil
}

// stopProxies stops the proxy endpoints.
func (s *Server) stopProxies(ctx context.Context) { s.shutdownProxies(ctx) }

// closeListeners closes the HTTP listeners after a failed start.
func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeListenersLocked()
}

// shutdownProxies is what stopProxies does once front ends exist.
func (s *Server) shutdownProxies(ctx context.Context) {
	for _, p := range s.proxies {
		_ = p.Shutdown(ctx)
	}
	s.proxies = nil
}
