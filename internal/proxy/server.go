package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/metrics"
	"github.com/sqlgate/sqlgate/internal/rawconn"
	"github.com/sqlgate/sqlgate/internal/tlscert"
)

// Handler serves client connections in one wire protocol.
type Handler interface {
	// ServeSession runs one client session until the client leaves, ctx is
	// cancelled (hard shutdown) or the session sees Draining between
	// transactions. The server closes the connection afterwards.
	ServeSession(ctx context.Context, sess *Session) error
	// Reject tells a client that is turned away why (ErrTooManyClients or
	// ErrShuttingDown), in the protocol's own terms. conn has a deadline.
	Reject(conn net.Conn, err error)
}

// rejectTimeout bounds the protocol exchange with a rejected client.
const rejectTimeout = 5 * time.Second

// Server is one proxy endpoint: it accepts clients on the cluster's
// proxy.listen address, enforces max_client_connections and runs a Session
// per client through the Handler.
type Server struct {
	cluster string
	h       Handler
	log     *slog.Logger
	m       *Metrics
	auth    *Authenticator
	certs   *tlscert.Store
	ids     atomic.Uint64
	// borrowWait is this cluster's series of m.BorrowWait, bound on the
	// first borrow.
	borrowWait atomic.Pointer[metrics.HistogramSeries]
	series     serverSeries
	pinned     atomic.Int64
	// awake counts the sessions a goroutine serves (not parked); above
	// crowded a session parks after its setup (Session.Crowded).
	awake   atomic.Int64
	crowded atomic.Int64
	// ticks counts the watch loop's periods (watch.go).
	ticks atomic.Uint64

	mu        sync.Mutex // guards following fields
	cfg       config.Proxy
	ln        net.Listener
	sessions  map[*Session]struct{}
	nTLS      int
	draining  bool
	drainCh   chan struct{}
	cancelAll context.CancelFunc
	evictFn   func() bool
	statsFn   func() PoolStats
	onUpdate  []func(config.Proxy)
	wg        sync.WaitGroup
}

// NewServer prepares a proxy endpoint for d.Cluster.Proxy served by h. It
// loads (or generates) the TLS certificate and registers metrics; it does
// not listen.
func NewServer(d Deps, h Handler) (*Server, error) {
	if d.Cluster.Proxy == nil {
		return nil, errors.New("new proxy: cluster has no proxy config")
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	cfg := *d.Cluster.Proxy
	certs, err := openCerts(cfg.TLS, d.DataDir)
	if err != nil {
		return nil, fmt.Errorf("proxy tls: %w", err)
	}
	s := &Server{cluster: d.Cluster.Name, cfg: cfg, h: h, log: log, m: metricsFor(d.Metrics),
		auth: NewAuthenticator(d), certs: certs, sessions: map[*Session]struct{}{}, drainCh: make(chan struct{}),
		statsFn: func() PoolStats { return PoolStats{} }}
	s.crowded.Store(crowdedAbove)
	s.m.add(s)
	return s, nil
}

// Cluster returns the cluster name (the metrics label).
func (s *Server) Cluster() string { return s.cluster }

// Config returns the proxy configuration with defaults applied, as last
// set by NewServer or Update.
func (s *Server) Config() config.Proxy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Update applies new runtime settings to the running endpoint: client
// authentication, require_tls, idle_client_timeout, debug_logging and,
// through the front end's OnUpdate hooks, the pool settings. The listen
// address and TLS files keep their values. Connected clients stay.
func (s *Server) Update(cfg config.Proxy) {
	s.mu.Lock()
	cfg.Listen, cfg.TLS = s.cfg.Listen, s.cfg.TLS
	s.cfg = cfg
	hooks := slices.Clone(s.onUpdate)
	s.mu.Unlock()
	s.auth.Update(cfg)
	for _, f := range hooks {
		f(cfg)
	}
}

// OnUpdate registers a front end's hook for Update (pool settings).
func (s *Server) OnUpdate(f func(config.Proxy)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onUpdate = append(s.onUpdate, f)
}

// Auth returns the client authenticator.
func (s *Server) Auth() *Authenticator { return s.auth }

// Metrics returns the shared metric families.
func (s *Server) Metrics() *Metrics { return s.m }

// TLSConfig returns the server-side TLS configuration for client upgrades.
func (s *Server) TLSConfig() *tls.Config { return s.certs.Config() }

// ReloadTLS re-reads configured certificate files (SIGHUP); existing
// connections keep theirs.
func (s *Server) ReloadTLS() error { return s.certs.Load() }

// SetPoolStats sets the source of the database connection gauges.
func (s *Server) SetPoolStats(f func() PoolStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsFn = f
}

// SetEvictor sets how the front end closes one idle database connection
// (its pool's EvictIdle), so that the cluster's other users of the
// connection budget can take the slot (see EvictIdle).
func (s *Server) SetEvictor(f func() bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evictFn = f
}

// EvictIdle closes the proxy's longest-idle database connection, freeing
// its budget slot, and reports whether there was one. The cluster's
// connection pool calls it when the Data API (or a lowered budget) needs
// a slot that idle proxy connections hold.
func (s *Server) EvictIdle() bool {
	s.mu.Lock()
	f := s.evictFn
	s.mu.Unlock()
	return f != nil && f()
}

// Waiting returns the clients waiting for a database connection (the
// cluster's budget counts them as demand).
func (s *Server) Waiting() int { return s.poolStats().Waiting }

// PoolStats returns the counts of the front end's database connections.
func (s *Server) PoolStats() PoolStats { return s.poolStats() }

func (s *Server) poolStats() PoolStats {
	s.mu.Lock()
	f := s.statsFn
	s.mu.Unlock()
	return f()
}

func (s *Server) clientCounts() (all, withTLS int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions), s.nTLS
}

// Listen binds the configured address.
func (s *Server) Listen() error {
	addr := s.Config().Listen
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("proxy listen %s: %w", addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Addr returns the bound address (nil before Listen).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts clients until Shutdown (nil error) or ctx is done. Session
// contexts derive from ctx. Call Listen first.
func (s *Server) Serve(ctx context.Context) error {
	base, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	ln := s.ln
	s.cancelAll = cancel
	s.mu.Unlock()
	if ln == nil {
		cancel()
		return errors.New("proxy serve: not listening")
	}
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	// Cancelling the sessions' context (Shutdown's deadline, or ctx)
	// closes their connections: one registration for all of them, not a
	// context and a callback per session. It outlives Serve, as sessions
	// do.
	context.AfterFunc(base, s.closeAll)
	jdone := make(chan struct{})
	defer close(jdone)
	go s.janitor(jdone)
	go s.watchLoop(jdone)
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isDraining() || ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("proxy accept: %w", err)
		}
		delay = 0
		s.m.ClientsReceived.Inc(s.cluster)
		sess, err := s.admit(base, conn)
		if err != nil {
			s.m.ClientsSetup.Inc(s.cluster, "rejected")
			go s.reject(conn, err)
			continue
		}
		go s.run(base, sess)
	}
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

func (s *Server) admit(base context.Context, conn net.Conn) (*Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return nil, ErrShuttingDown
	}
	if maxc := s.cfg.MaxClientConnections; maxc > 0 && len(s.sessions) >= maxc {
		return nil, ErrTooManyClients
	}
	id := s.ids.Add(1)
	sess := &Session{ID: id, Conn: rawconn.Wrap(conn), raw: conn, srv: s}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	return sess, nil
}

func (s *Server) reject(conn net.Conn, err error) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(rejectTimeout))
	s.h.Reject(conn, err)
}

func (s *Server) run(base context.Context, sess *Session) {
	s.awake.Add(1)
	ctx := withSession(base, sess)
	p := &sess.park
	p.ctx, p.start = ctx, time.Now()
	if base.Err() != nil { // cancelled while this client was admitted
		sess.Close()
	}
	if tc, ok := sess.raw.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
	}
	s.finish(sess, s.recovered(sess, func() error { return s.h.ServeSession(ctx, sess) }))
}

// closeAll closes every session's client connection.
func (s *Server) closeAll() {
	for _, sess := range s.snapshot(nil) {
		sess.Close()
	}
}

// finish ends a session whose front end returned err, or parks it
// (ErrParked): its goroutine ends and a new one resumes it later.
func (s *Server) finish(sess *Session, err error) {
	for errors.Is(err, ErrParked) {
		if s.parkSession(sess) {
			return
		}
		err = s.recovered(sess, func() error { return sess.park.resume(sess.park.ctx) })
	}
	defer s.wg.Done()
	s.awake.Add(-1)
	_ = sess.raw.Close()
	sess.Flush()
	if sess.pinReason != "" {
		s.pinned.Add(-1)
	}
	s.mu.Lock()
	delete(s.sessions, sess)
	if sess.tls {
		s.nTLS--
	}
	s.mu.Unlock()
	level := slog.LevelDebug
	if s.Config().DebugLogging {
		level = slog.LevelInfo
	}
	sess.Log().Log(context.Background(), level, "session end", "dur", time.Since(sess.park.start), "err", err)
}

// recovered runs a front end's session code (ServeSession, or a parked
// session's resume) and turns a panic in it into an error: the panic is
// logged with its stack and counted
// (sqlgate_proxy_errors_total{kind="panic"}), that one session ends, and
// the process keeps serving every other client. The front end's deferred
// releases run while the panic unwinds, so its backend is closed or
// drained like after any other failure.
func (s *Server) recovered(sess *Session, serve func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.m.Errors.Inc(s.cluster, "panic")
			sess.Log().Error("session panic", "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("session panic: %v", v)
		}
	}()
	return serve()
}

// StopAccepting closes the listener (its address is free when it returns)
// and marks the server draining; Shutdown then ends the sessions.
func (s *Server) StopAccepting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.draining {
		s.draining = true
		close(s.drainCh)
		if s.ln != nil {
			_ = s.ln.Close()
		}
	}
}

// Shutdown stops accepting, ends idle sessions at once and lets sessions in
// a transaction finish until ctx is done; then it cancels the remaining
// sessions (front ends roll back and close) and waits for them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.StopAccepting()
	s.mu.Lock()
	sessions := make([]*Session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	cancelAll := s.cancelAll
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.nudge()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		if cancelAll != nil {
			cancelAll()
		}
		<-done
	}
	s.m.remove(s)
	return err
}
