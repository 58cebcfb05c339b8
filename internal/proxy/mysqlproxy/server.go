package mysqlproxy

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// fallbackVersion is announced until the database's own version is known.
const fallbackVersion = "8.0.36-sqlgate"

// connectTimeout bounds a backend dial and login.
const connectTimeout = 5 * time.Second

// Server is the MySQL/MariaDB front end of a cluster's proxy endpoint. It
// implements proxy.Handler; the core proxy.Server runs the accept loop.
type Server struct {
	px     *proxy.Server
	pool   *proxy.Pool[*backendConn]
	dialer *dialer
	cfg    config.Proxy
	log    *slog.Logger
	// strict resets the backend session on every hand-over to another
	// client (isolation: strict).
	strict bool
	// handOverResets counts backend sessions reset on a hand-over.
	handOverResets atomic.Uint64
	// pipelines counts backend writes that carried more than one
	// client's unit, pipedUnits the units they carried, pipeRetries the
	// pipelined units borrowed again after a write that never sent them.
	pipelines, pipedUnits, pipeRetries atomic.Uint64

	// greetPlugin is the auth plugin the greeting proposes.
	greetPlugin string

	version    atomic.Pointer[string]
	collations atomic.Pointer[map[byte][2]string]

	probeOnce sync.Once

	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaErr  error

	mu       sync.Mutex // guards following fields
	sessions map[uint32]*session
	sha2     map[string][32]byte // caching_sha2_password cache: user → SHA256(SHA256(pw))
}

var _ proxy.Handler = (*Server)(nil)

// New returns the MySQL front end for d.Cluster. Call Listen, then Serve.
func New(d proxy.Deps) (*Server, error) {
	if d.Cluster.Proxy == nil {
		return nil, errors.New("new mysql proxy: cluster has no proxy config")
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: *d.Cluster.Proxy, log: log.With("component", "mysqlproxy"),
		sessions: map[uint32]*session{}, sha2: map[string][32]byte{}, greetPlugin: mysqlwire.PluginNative,
		strict: d.Cluster.Proxy.StrictIsolation()}
	s.dialer = &dialer{addr: d.Cluster.Address, writer: d.Writer, route: d.Route, initQuery: s.initQuery, defaultDB: d.Cluster.Database,
		timeout: connectTimeout, onVersion: s.setVersion}
	tc, err := backendTLS(d.Cluster)
	if err != nil {
		return nil, err
	}
	s.dialer.tls = tc
	px, err := proxy.NewServer(d, s)
	if err != nil {
		return nil, err
	}
	s.px = px
	s.pool = proxy.NewPool(proxy.PoolConfig{BorrowTimeout: s.cfg.BorrowTimeout, Relogin: px.Auth().Relogin, Shares: d.Shares, Route: d.Route}, d.Budget, s.dial, px.ObserveBorrow)
	tune := func(c config.Proxy) {
		s.pool.SetBorrowTimeout(c.BorrowTimeout)
		s.pool.SetMaxIdle(c.IdleLimit(d.Cluster.MaxConnections))
	}
	tune(s.cfg)
	px.OnUpdate(tune)
	px.SetPoolStats(s.pool.Stats)
	px.SetEvictor(s.pool.EvictIdle)
	return s, nil
}

// initQuery returns the proxy's current init_query (ModifyDBProxyTargetGroup
// changes it while the proxy runs).
func (s *Server) initQuery() string { return s.px.Config().InitQuery }

// Listen binds the proxy address.
func (s *Server) Listen() error { return s.px.Listen() }

// Addr returns the bound address.
func (s *Server) Addr() net.Addr { return s.px.Addr() }

// Serve accepts clients until Shutdown or ctx is done.
func (s *Server) Serve(ctx context.Context) error { return s.px.Serve(ctx) }

// Shutdown drains clients (see proxy.Server.Shutdown) and closes the pool.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.px.Shutdown(ctx)
	s.pool.Close()
	return err
}

// Core returns the protocol-agnostic server (metrics, TLS reload).
func (s *Server) Core() *proxy.Server { return s.px }

// PoolStats returns the backend pool counts.
func (s *Server) PoolStats() proxy.PoolStats { return s.pool.Stats() }

func (s *Server) dial(ctx context.Context, login proxy.Login) (*backendConn, error) {
	b, err := s.dialer.dial(ctx, login)
	s.px.ObserveDial(err)
	if err == nil && s.collations.Load() == nil {
		s.loadCollations(b)
	}
	return b, err
}

// Reject answers a turned-away client with an ERR packet instead of the
// greeting, as mysqld does for ER_CON_COUNT_ERROR.
func (s *Server) Reject(conn net.Conn, err error) {
	pc := mysqlwire.NewPacketConn(conn)
	_ = pc.Send(borrowError(err).Packet())
}

// ServeSession runs one client session.
func (s *Server) ServeSession(ctx context.Context, ps *proxy.Session) (err error) {
	// The session has no context of its own: ctx is the server's (hard
	// shutdown cancels it), and KILL CONNECTION wakes a session waiting
	// for a backend through the pool's queue (session.abortBorrow).
	c := newSession(s, ps)
	ps.WatchClient(c)
	s.mu.Lock()
	s.sessions[c.id] = c
	s.mu.Unlock()
	defer func() { c.ended(err) }() // also while a panic unwinds
	return c.run(ctx)
}

// ended releases what a session holds once it is over; a parked session
// (proxy.ErrParked) is not.
func (c *session) ended(err error) {
	if errors.Is(err, proxy.ErrParked) {
		return
	}
	c.close()
	c.srv.mu.Lock()
	delete(c.srv.sessions, c.id)
	c.srv.mu.Unlock()
}

func (s *Server) session(id uint32) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

func (s *Server) setVersion(v string) {
	if s.version.Load() == nil || *s.version.Load() != v {
		s.version.Store(&v)
	}
}

// serverVersion is the version announced to clients: the database's own,
// learned from every backend login and, before the first one, from a single
// greeting read (no login) when the first client arrives.
func (s *Server) serverVersion() string {
	if v := s.version.Load(); v != nil {
		return *v
	}
	s.probeOnce.Do(func() {
		conn, err := net.DialTimeout("tcp", s.dialer.addr, time.Second)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(time.Second))
		if p, err := mysqlwire.NewPacketConn(conn).ReadPacket(); err == nil {
			if g, err := mysqlwire.ParseGreeting(p); err == nil {
				s.setVersion(g.Version)
			}
		}
	})
	if v := s.version.Load(); v != nil {
		return *v
	}
	return fallbackVersion
}

// loadCollations reads collation ids once, to replay a client's handshake
// character set on pooled connections.
func (s *Server) loadCollations(b *backendConn) {
	rows, err := b.query("SELECT ID, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL")
	if err != nil {
		return
	}
	m := map[byte][2]string{}
	for _, r := range rows {
		var id int
		if _, err := fmt.Sscan(r[0], &id); err == nil && id > 0 && id < 256 {
			m[byte(id)] = [2]string{r[1], r[2]}
		}
	}
	s.collations.Store(&m)
}

func (s *Server) rsa() (*rsa.PrivateKey, error) {
	s.rsaOnce.Do(func() { s.rsaKey, s.rsaErr = rsa.GenerateKey(rand.Reader, 2048) })
	return s.rsaKey, s.rsaErr
}

// sha2Cached reports whether user completed a full caching_sha2_password
// authentication with password, enabling the fast path.
func (s *Server) sha2Cached(user, password string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.sha2[user]
	return ok && d == mysqlwire.SHA2Digest(password)
}

func (s *Server) sha2Store(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sha2[user] = mysqlwire.SHA2Digest(password)
}
