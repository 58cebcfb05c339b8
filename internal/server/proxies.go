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
	// Core is the protocol-independent endpoint (TLS reload, Update).
	Core() *proxy.Server
}

// startProxies starts the proxies: those declared in the file (one per
// cluster with a proxy section, docs/proxy.md) and those created through
// the RDS API, listening before it returns so that a bad address in the
// file fails the start. The proxy runtime (proxy_runtime.go) then follows
// the state store's changes. Shutdown is stopProxies.
func (s *Server) startProxies(ctx context.Context) error {
	// Sessions outlive Run's ctx: stopProxies drains them gracefully.
	s.proxyRT = newProxyRuntime(s, context.WithoutCancel(ctx))
	return s.proxyRT.reconcile(ctx, true)
}

// newFrontEnd builds (without listening) a proxy front end for cluster cc
// with proxy settings px, drawing on budget; a readOnly one sends work to
// the cluster's readers (reader endpoints, topology.go).
func (s *Server) newFrontEnd(cc config.Cluster, px config.Proxy, budget proxy.Budget, readOnly bool) (frontEnd, error) {
	cc.Proxy = &px
	d := proxy.Deps{Cluster: cc, DataDir: s.cfg.DataDir, Budget: budget, Secrets: s.secrets,
		Tokens: s, Metrics: s.metrics.reg, Log: s.log}
	if c := s.cluster(cc.Name); c != nil {
		d.Writer = c.writerFunc(cc) // nil unless cc has instances
		d.Shares = c.exec.Shares
		if readOnly {
			d.Route = c.readerRoute()
		}
	}
	switch cc.Engine {
	case "postgres":
		return pgproxy.New(d)
	case "mysql":
		return mysqlproxy.New(d)
	}
	return nil, fmt.Errorf("no proxy for engine %q", cc.Engine)
}

// stopProxies drains the proxies: transactions may finish until ctx is
// done, then the rest are rolled back and closed.
func (s *Server) stopProxies(ctx context.Context) {
	if s.proxyRT != nil {
		s.proxyRT.close()
	}
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

// ProxyAddrs returns the bound proxy addresses (for tests), file proxies
// first in cluster order.
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
