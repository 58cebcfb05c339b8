package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/rdsapi"
	"github.com/sqlgate/sqlgate/internal/state"
)

// proxyDrain is how long a proxy removed online lets its transactions
// finish before its remaining clients are disconnected.
const proxyDrain = 5 * time.Second

// reconcileRetry is how soon a failed reconcile is tried again.
const reconcileRetry = 2 * time.Second

// proxyRuntime runs the proxies the file and the state store describe and
// follows the store: a proxy created, changed or deleted through the RDS
// API (on any node) is started, updated or stopped here without touching
// the clients of the other proxies.
type proxyRuntime struct {
	s       *Server
	serve   context.Context // outlives Run: stopProxies drains
	kick    chan struct{}   // capacity 1: "reconcile again"
	stopped chan struct{}

	mu      sync.Mutex               // guards running; held for a whole reconcile
	running map[string]*runningProxy // by proxy id: a rename keeps them

	stMu   sync.Mutex          // guards states (read by the RDS API during a reconcile)
	states map[string]*applied // by proxy id: what the last reconcile did
}

// applied is what the last reconcile did with one proxy: the version
// (record Updated) it applied and the listeners that failed to start, by
// endpoint name ("" = the proxy's own).
type applied struct {
	updated time.Time
	known   map[string]bool // the endpoints it saw
	failed  map[string]error
}

// runningProxy is one proxy's listeners: the default one ("") and one
// per proxy endpoint, sharing the proxy's part of the cluster budget.
type runningProxy struct {
	name, cluster string
	share         *proxy.Share
	listeners     map[string]*listener // by endpoint name
	// unInstances removes the share's evictor and waiting count from
	// the budgets of a cluster with instances (budgets.go).
	unInstances func()
}

type listener struct {
	fe      frontEnd
	addr    string
	cfg     config.Proxy
	unEvict func()
}

func newProxyRuntime(s *Server, serve context.Context) *proxyRuntime {
	return &proxyRuntime{s: s, serve: serve, kick: make(chan struct{}, 1), stopped: make(chan struct{}),
		running: map[string]*runningProxy{}, states: map[string]*applied{}}
}

// Kick asks for a reconcile soon (the store watch calls it).
func (rt *proxyRuntime) Kick() {
	select {
	case rt.kick <- struct{}{}:
	default:
	}
}

// run reconciles on every kick until ctx is done.
func (rt *proxyRuntime) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-rt.stopped:
			return
		case <-rt.kick:
			if err := rt.reconcile(ctx, false); err != nil && ctx.Err() == nil {
				rt.s.log.Error("proxy reconcile", "err", err)
				// Try again (a port another process held may be free).
				time.AfterFunc(reconcileRetry, rt.Kick)
			}
		}
	}
}

func (rt *proxyRuntime) close() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	select {
	case <-rt.stopped:
	default:
		close(rt.stopped)
	}
}

// watch kicks the runtime on every change of the RDS namespace (from any
// node) and applies the clusters' Data API switches.
func (s *Server) watchRDS(ctx context.Context) {
	w, ok := s.store.(state.Watcher)
	if !ok {
		return
	}
	err := w.Watch(ctx, func(ns, _ string) {
		if ns == rdsapi.Namespace || ns == state.WatchAll {
			s.proxyRT.Kick()
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("rds watcher stopped", "err", err)
	}
}

// reconcile makes the running proxies match the file and the store, and
// applies the clusters' Data API switches. With strict, a file proxy that
// fails to start fails the call (start-up); otherwise failures are logged
// and retried on the next change.
func (rt *proxyRuntime) reconcile(ctx context.Context, strict bool) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	select {
	case <-rt.stopped:
		return nil
	default:
	}
	s := rt.s
	if err := s.applyClusterOverrides(ctx); err != nil {
		return err
	}
	recs, err := s.rdsStore.Proxies(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	states := map[string]*applied{}
	var errs []error
	for _, p := range rdsapi.Merge(s.fileProxies(), recs, s.cfg.RDS.ProxyHost) {
		st := &applied{updated: p.Updated, known: map[string]bool{"": true}, failed: map[string]error{}}
		for _, e := range p.Endpoints {
			st.known[e.Name] = true
		}
		states[p.ID] = st
		c := s.cluster(p.Cluster)
		if c == nil || c.engine != p.Engine {
			continue // no target (yet)
		}
		want[p.ID] = true
		if err := rt.apply(p, c, st.failed); err != nil {
			if strict && p.Source == rdsapi.SourceFile {
				return err
			}
			errs = append(errs, err)
		}
	}
	rt.stMu.Lock()
	rt.states = states
	rt.stMu.Unlock()
	for id, rp := range rt.running {
		if !want[id] {
			rt.stop(id, rp)
		}
	}
	return errors.Join(errs...)
}

// Status returns the RDS Status of proxy p's listener for endpoint ("" =
// the proxy's own) on this node: creating until a reconcile has seen the
// proxy, modifying until it has applied p's latest change,
// incompatible-network when the listener could not bind, else available.
func (rt *proxyRuntime) Status(p rdsapi.Proxy, endpoint string) string {
	rt.stMu.Lock()
	defer rt.stMu.Unlock()
	st := rt.states[p.ID]
	switch {
	case st == nil || !st.known[endpoint]:
		return "creating"
	case st.failed[endpoint] != nil:
		return "incompatible-network"
	case st.updated.Before(p.Updated):
		return "modifying"
	}
	return "available"
}

// apply starts, updates or restarts the listeners of proxy p on cluster c;
// failed gets the listeners that could not start.
func (rt *proxyRuntime) apply(p rdsapi.Proxy, c *cluster, failed map[string]error) error {
	rp := rt.running[p.ID]
	if rp != nil && rp.cluster != p.Cluster {
		rt.stop(p.ID, rp)
		rp = nil
	}
	cc := rt.s.clusterConfig(c.name)
	cc.MaxConnections = c.pool.Max() // the live budget (SIGHUP may have changed it)
	if rp == nil {
		rp = &runningProxy{name: p.Name, cluster: p.Cluster, listeners: map[string]*listener{},
			share: proxy.NewShare(c.proxyBudget(), p.Config.ConnLimit(cc.MaxConnections))}
		rp.unInstances = c.eachInstance(rp.share.EvictIdleTo, rp.share.WaitingTo)
		rt.running[p.ID] = rp
	}
	rp.name = p.Name
	rp.share.SetMax(p.Config.ConnLimit(cc.MaxConnections))
	addrs, readOnly := map[string]string{"": p.Config.Listen}, map[string]bool{}
	for _, e := range p.Endpoints {
		addrs[e.Name], readOnly[e.Name] = e.Listen, e.ReadOnly()
	}
	for name, l := range rp.listeners {
		if addr, ok := addrs[name]; !ok || addr != l.addr {
			rt.stopListener(l)
			delete(rp.listeners, name)
		}
	}
	var errs []error
	for _, name := range sortedKeys(addrs) {
		cfg := p.Config
		cfg.Listen = addrs[name]
		if l := rp.listeners[name]; l != nil {
			if !reflect.DeepEqual(l.cfg, cfg) {
				l.fe.Core().Update(cfg)
				l.cfg = cfg
				rt.s.log.Info("proxy updated", "proxy", p.Name, "endpoint", name)
			}
			continue
		}
		l, err := rt.startListener(p.Name, cc, cfg, rp.share, readOnly[name])
		if err != nil {
			failed[name] = err
			errs = append(errs, err)
			continue
		}
		rp.listeners[name] = l
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (rt *proxyRuntime) startListener(name string, cc config.Cluster, cfg config.Proxy, share *proxy.Share, readOnly bool) (*listener, error) {
	s := rt.s
	fe, err := s.newFrontEnd(cc, cfg, share, readOnly)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", name, err)
	}
	if err := fe.Listen(); err != nil {
		_ = fe.Shutdown(context.Background())
		return nil, fmt.Errorf("proxy %s: %w", name, err)
	}
	l := &listener{fe: fe, addr: cfg.Listen, cfg: cfg}
	// Idle proxy connections give their budget slots back when the Data
	// API (or a lowered max_connections) needs them; the proxy's waiting
	// clients count in the budget's demand (leases between nodes). A
	// lowered MaxConnectionsPercent closes the proxy's idle connections
	// above it (Share.SetMax). With instances the proxy's share does
	// both per instance (registered with the share, apply).
	unEvict, unWait := func() {}, func() {}
	if c := s.cluster(cc.Name); c.budgets == nil {
		unEvict, unWait = c.pool.AddEvictor(fe.Core().EvictIdle), c.pool.AddWaiting(fe.Core().Waiting)
	}
	unShare := share.AddEvictor(fe.Core().EvictIdle)
	l.unEvict = func() { unEvict(); unWait(); unShare() }
	s.mu.Lock()
	s.proxies = append(s.proxies, fe)
	s.mu.Unlock()
	s.log.Info("listening", "proto", "proxy-"+cc.Engine, "proxy", name, "cluster", cc.Name, "addr", fe.Addr().String(), "read_only", readOnly)
	go func() {
		if err := fe.Serve(rt.serve); err != nil {
			s.log.Error("proxy stopped", "proxy", name, "err", err)
		}
	}()
	return l, nil
}

// stop stops every listener of a proxy removed (or retargeted) online.
func (rt *proxyRuntime) stop(id string, rp *runningProxy) {
	for _, l := range rp.listeners {
		rt.stopListener(l)
	}
	rp.unInstances()
	delete(rt.running, id)
	rt.s.log.Info("proxy stopped", "proxy", rp.name)
}

// stopListener stops accepting at once and drains in the background.
func (rt *proxyRuntime) stopListener(l *listener) {
	s := rt.s
	s.mu.Lock()
	s.proxies = slices.DeleteFunc(s.proxies, func(fe frontEnd) bool { return fe == l.fe })
	s.mu.Unlock()
	l.unEvict()
	l.fe.Core().StopAccepting() // the address is free for a new listener at once
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), proxyDrain)
		defer cancel()
		_ = l.fe.Shutdown(ctx)
	}()
}
