// Package pgproxy is the PostgreSQL front end of the sqlgate proxy (RDS
// Proxy analog, docs/proxy.md): protocol 3.0 clients authenticate with
// SCRAM-SHA-256 against an auth secret's password, or with cleartext
// passwords or IAM auth tokens over TLS, and share backend connections per
// transaction. It relays frames, reads the transaction state from
// ReadyForQuery, multiplexes protocol-level prepared statements without
// pinning, replays tracked session parameters on borrow and pins sessions
// whose state it cannot track. Every reply a backend owes is counted, so a
// connection is reused only when idle with nothing pending (account.go);
// it is reset with DISCARD ALL before another client gets it after calls
// the proxy cannot vouch for, or on every hand-over with isolation: strict.
// Protocol: https://www.postgresql.org/docs/current/protocol.html; user
// documentation: docs/proxy.md.
package pgproxy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// Server is the PostgreSQL proxy endpoint of one cluster.
type Server struct {
	core  *proxy.Server
	pool  *proxy.Pool[*backend]
	dial  *dialer
	scram *scramCache
	stmts *stmtRegistry
	// paramSets names the parameter sets of sessions and backends.
	paramSets paramSets
	// strict resets the backend session on every hand-over to a
	// different client (isolation: strict).
	strict bool
	// pipelines counts backend writes that carried more than one
	// client's unit, pipedUnits the units they carried.
	pipelines, pipedUnits atomic.Uint64
	// pipeRetries counts pipelined units retried on another backend
	// because their write failed before any of their bytes went out.
	pipeRetries atomic.Uint64
	// startupTimeout bounds a session's TLS handshake and authentication
	// (the constant; tests shorten it before serving).
	startupTimeout time.Duration

	mu       sync.Mutex // guards sessions
	sessions map[uint32]*session
	// inlineHook, when set (tests), is called as a session's goroutine
	// starts relaying the reply to its own unit (inline.go).
	inlineHook atomic.Pointer[func()]
}

var _ proxy.Handler = (*Server)(nil)

// New returns a PostgreSQL proxy for d.Cluster. Call Listen, then Serve.
func New(d proxy.Deps) (*Server, error) {
	if d.Log != nil {
		d.Log = d.Log.With("component", "pgproxy")
	}
	s := &Server{scram: newSCRAMCache(), stmts: newStmtRegistry(), sessions: map[uint32]*session{}, startupTimeout: startupTimeout}
	core, err := proxy.NewServer(d, s)
	if err != nil {
		return nil, err
	}
	s.core = core
	if s.dial, err = newDialer(d.Cluster, d.Writer); err != nil {
		return nil, err
	}
	s.dial.initQuery = func() string { return core.Config().InitQuery }
	s.dial.route = d.Route
	cfg := core.Config()
	s.strict = d.Cluster.Proxy.StrictIsolation()
	s.pool = proxy.NewPool(proxy.PoolConfig{BorrowTimeout: cfg.BorrowTimeout, Relogin: core.Auth().Relogin, Shares: d.Shares, Route: d.Route}, d.Budget, s.dialBackend, core.ObserveBorrow)
	tune := func(c config.Proxy) {
		s.pool.SetBorrowTimeout(c.BorrowTimeout)
		s.pool.SetMaxIdle(c.IdleLimit(d.Cluster.MaxConnections))
	}
	tune(cfg)
	core.OnUpdate(tune)
	core.SetPoolStats(s.pool.Stats)
	core.SetEvictor(s.pool.EvictIdle)
	return s, nil
}

func (s *Server) dialBackend(ctx context.Context, login proxy.Login) (*backend, error) {
	b, err := s.dial.dial(ctx, login)
	s.core.ObserveDial(err)
	return b, err
}

// Listen binds the proxy address.
func (s *Server) Listen() error { return s.core.Listen() }

// Addr returns the bound address.
func (s *Server) Addr() net.Addr { return s.core.Addr() }

// Serve accepts clients until Shutdown or ctx is done.
func (s *Server) Serve(ctx context.Context) error { return s.core.Serve(ctx) }

// Shutdown drains clients (see proxy.Server.Shutdown) and closes the pool.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.core.Shutdown(ctx)
	s.pool.Close()
	return err
}

// Core returns the protocol-agnostic server (metrics, TLS reload).
func (s *Server) Core() *proxy.Server { return s.core }

// PoolStats returns the backend pool counts.
func (s *Server) PoolStats() proxy.PoolStats { return s.pool.Stats() }

// Reject answers a turned-away client after reading its startup packet,
// as PostgreSQL does ("sorry, too many clients already", 53300).
func (s *Server) Reject(conn net.Conn, err error) {
	st := startupReader(conn)
	for range 2 {
		code, _, rerr := st.read()
		if rerr != nil {
			return
		}
		if code == sslRequestCode || code == gssRequestCode {
			if _, werr := conn.Write([]byte{'N'}); werr != nil {
				return
			}
			continue
		}
		break
	}
	e := fatal("53300", "sorry, too many clients already", err)
	if err == proxy.ErrShuttingDown {
		e = fatal("57P03", "the database system is shutting down", err)
	}
	_, _ = conn.Write(e.encode())
}

// register gives a session its cancel key (pid, secret).
func (s *Server) register(sess *session) {
	var key [4]byte
	_, _ = rand.Read(key[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	pid := uint32(sess.ps.ID & 0x7fffffff)
	for s.sessions[pid] != nil || pid == 0 {
		pid = (pid + 1) & 0x7fffffff
	}
	sess.pid, sess.key = pid, key
	s.sessions[pid] = sess
}

func (s *Server) unregister(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.pid] == sess {
		delete(s.sessions, sess.pid)
	}
}

// cancel handles a CancelRequest: it cancels the query of the session
// with that proxy-issued key, on the backend that session holds now.
func (s *Server) cancel(pid uint32, key []byte) {
	s.mu.Lock()
	sess := s.sessions[pid]
	s.mu.Unlock()
	if sess == nil || subtle.ConstantTimeCompare(sess.key[:], key) != 1 {
		return
	}
	sess.cancelQuery()
}

// backendKeyData is the BackendKeyData frame for a session.
func backendKeyData(pid uint32, key [4]byte) []byte {
	body := binary.BigEndian.AppendUint32(nil, pid)
	return appendFrame(nil, 'K', body, key[:])
}

// cancelTimeout bounds delivering one CancelRequest.
const cancelTimeout = 5 * time.Second
