package server

import (
	"context"
	"fmt"
	"net"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/mysqlproxy"
	"github.com/sqlgate/sqlgate/internal/proxy/pgproxy"
)

// frontEnd is a running proxy endpoint of one cluster.
type frontEnd interface {
	Listen() error
	Addr() net.Addr
	Serve(ctx context.Context) error
	Shutdown(ctx context.Context) error
	// Core is the protocol-independent endpoint (TLS reload).
	Core() *proxy.Server
}

// startProxies starts one proxy front end per cluster with a proxy
// section (docs/proxy.md), listening before it returns so that a bad
// address fails the start. Shutdown is stopProxies.
func (s *Server) startProxies(ctx context.Context) error {
	// Sessions outlive Run's ctx: stopProxies drains them gracefully.
	ctx = context.WithoutCancel(ctx)
	for _, c := range s.clusters {
		cc := s.clusterConfig(c.name)
		if cc.Proxy == nil {
			continue
		}
		d := proxy.Deps{Cluster: cc, DataDir: s.cfg.DataDir, Budget: c.pool, Secrets: s.secrets,
			Tokens: s, Metrics: s.metrics.reg, Log: s.log, Writer: c.writerFunc(cc)}
		var fe frontEnd
		switch cc.Engine {
		case "postgres":
			p, err := pgproxy.New(d)
			if err != nil {
				return fmt.Errorf("clusters %s proxy: %w", cc.Name, err)
			}
			fe = p
		case "mysql":
			p, err := mysqlproxy.New(d)
			if err != nil {
				return fmt.Errorf("clusters %s proxy: %w", cc.Name, err)
			}
			fe = p
		default:
			return fmt.Errorf("clusters %s proxy: no proxy for engine %q", cc.Name, cc.Engine)
		}
		if err := fe.Listen(); err != nil {
			return fmt.Errorf("clusters %s proxy: %w", cc.Name, err)
		}
		// Idle proxy connections give their budget slots back when the
		// Data API (or a lowered max_connections) needs them.
		c.pool.AddEvictor(fe.Core().EvictIdle)
		s.mu.Lock()
		s.proxies = append(s.proxies, fe)
		s.mu.Unlock()
		s.log.Info("listening", "proto", "proxy-"+cc.Engine, "cluster", cc.Name, "addr", fe.Addr().String())
		go func() {
			if err := fe.Serve(ctx); err != nil {
				s.log.Error("proxy stopped", "cluster", cc.Name, "err", err)
			}
		}()
	}
	return nil
}

// stopProxies drains the proxies: transactions may finish until ctx is
// done, then the rest are rolled back and closed.
func (s *Server) stopProxies(ctx context.Context) {
	s.mu.Lock()
	fes := s.proxies
	s.proxies = nil
	s.mu.Unlock()
	done := make(chan struct{}, len(fes))
	for _, fe := range fes {
		go func() {
			_ = fe.Shutdown(ctx)
			done <- struct{}{}
		}()
	}
	for range fes {
		<-done
	}
}

// ProxyAddrs returns the bound proxy addresses (for tests).
func (s *Server) ProxyAddrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for _, fe := range s.proxies {
		out = append(out, fe.Addr())
	}
	return out
}

func (s *Server) clusterConfig(name string) (cc config.Cluster) {
	for _, c := range s.cfg.Clusters {
		if c.Name == name {
			return c
		}
	}
	return cc
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeListenersLocked()
}
