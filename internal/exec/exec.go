// Package exec is the execution service behind sqlgate's HTTP doors: the
// Data API, the SQL endpoints and the console all run SQL through it, so
// the isolation rules hold at every door.
//
// Its job, in order: turn a secret's JSON into database credentials
// (ParseSecret), borrow a pooled connection within the borrow timeout with
// the database applied (Cluster.Open: the request's database, else the
// cluster default — a connect-time property of the pooled connection, so
// never a guess cached from an earlier call), run statements under the
// statement timeout while refusing transaction-control SQL (Session.Exec),
// and give the connection back clean (Session.Close): a connection whose
// engine reports session state (engine.Conn.Dirty) is reset, and closed
// when the reset fails or is not supported, so the next caller always
// starts from a session whose only state is its database. Errors are
// classified once (Classify) for every door to map to its own answers.
package exec

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/pool"
)

// resetTimeout bounds the reset of a dirty connection and the rollback of
// a transaction left open.
const resetTimeout = 5 * time.Second

// Cluster is one cluster as the execution service runs SQL on it.
type Cluster struct {
	Name    string
	Dialect engine.Dialect
	Pool    *pool.Pool
	// Database is the cluster's default database, used when a call names none.
	Database         string
	StatementTimeout time.Duration
	BorrowTimeout    time.Duration
	MaxResponseBytes int
	// MaxDetached bounds a statement left running after its call timed out
	// (Statement.KeepRunning); at the limit it is cancelled and its
	// connection closed. Zero means DefaultMaxDetached.
	MaxDetached time.Duration
	// Log receives connection resets and discards (nil = slog.Default()).
	Log *slog.Logger
	// Other returns the other value of secret arn clients may log in with
	// while it rotates (see Open); nil disables the retry.
	Other func(ctx context.Context, arn string) (value string, ok bool, err error)
	// Shares bounds what one principal holds of the cluster (OpenAs,
	// Session.HoldTransaction); nil bounds nothing.
	Shares *fairshare.Shares
}

// OpenAs is Open on behalf of principal: the session also holds one of
// the principal's connections (Cluster.Shares). A principal at its bound
// waits for one of its own connections within the borrow timeout, or is
// refused at once beyond its waiters bound; both refusals wrap
// fairshare.ErrLimit (ClassThrottled). principal "" is not bounded.
func (cl *Cluster) OpenAs(ctx context.Context, principal string, creds engine.Credentials) (*Session, error) {
	if cl.Shares == nil || principal == "" {
		return cl.Open(ctx, creds)
	}
	slot, err := cl.shareSlot(ctx, principal)
	if err != nil {
		return nil, err
	}
	s, err := cl.Open(ctx, creds)
	if err != nil {
		slot.Release()
		return nil, err
	}
	s.conns = slot
	return s, nil
}

// shareSlot takes one of principal's connections, waiting at most the
// borrow timeout.
func (cl *Cluster) shareSlot(ctx context.Context, principal string) (fairshare.Slot, error) {
	if slot, ok := cl.Shares.TryConnection(principal); ok {
		return slot, nil
	}
	wctx, cancel := context.WithTimeout(ctx, cl.BorrowTimeout)
	defer cancel()
	return cl.Shares.Connection(wctx, principal)
}

// OpenTx is OpenAs for a session that will hold a transaction (a Data
// API transaction): it also holds one of the principal's open
// transactions until Close. At that bound it is refused at once, before
// any connection is borrowed, with an error wrapping fairshare.ErrLimit.
func (cl *Cluster) OpenTx(ctx context.Context, principal string, creds engine.Credentials) (*Session, error) {
	slot, err := cl.Shares.Transaction(principal)
	if err != nil {
		return nil, err
	}
	s, err := cl.OpenAs(ctx, principal, creds)
	if err != nil {
		slot.Release()
		return nil, err
	}
	s.txns = slot
	return s, nil
}

// Open borrows a connection logged in with creds (creds.Database empty:
// the cluster default) within the borrow timeout. A pool that stays full
// until then gives pool.ErrExhausted. Close the Session when done.
func (cl *Cluster) Open(ctx context.Context, creds engine.Credentials) (*Session, error) {
	if creds.Database == "" {
		creds.Database = cl.Database
	}
	c, err := cl.Pool.BorrowWithin(ctx, creds, cl.BorrowTimeout)
	if err != nil && engine.LoginRefused(err) {
		if other, ok := cl.otherLogin(ctx, creds); ok {
			c, err = cl.Pool.BorrowWithin(ctx, other, cl.BorrowTimeout)
		}
	}
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = pool.ErrExhausted
		}
		return nil, err
	}
	return &Session{cl: cl, conn: c, id: c.ID()}, nil
}

// otherLogin returns the login of the other version of creds.Secret
// (AWSPENDING while a rotation sets it on the database, AWSCURRENT once it
// has: see secrets.Store.GraceValue). A new connection that races the
// password change, or a node that has not yet seen it, retries once with
// it instead of failing the call.
func (cl *Cluster) otherLogin(ctx context.Context, creds engine.Credentials) (engine.Credentials, bool) {
	if cl.Other == nil || creds.Secret == "" {
		return engine.Credentials{}, false
	}
	v, ok, err := cl.Other(ctx, creds.Secret)
	if err != nil || !ok {
		return engine.Credentials{}, false
	}
	s, err := ParseSecret(v)
	if err != nil || (s.Username == creds.User && s.Password == creds.Password) {
		return engine.Credentials{}, false
	}
	other := s.Credentials(creds.Database)
	other.Secret = creds.Secret
	return other, true
}

func (cl *Cluster) log() *slog.Logger {
	if cl.Log != nil {
		return cl.Log
	}
	return slog.Default()
}

// Session is one borrowed connection: for one call, a script, or a Data
// API transaction. It is used by one goroutine at a time.
type Session struct {
	cl   *Cluster
	conn *pool.Conn
	id   int64
	inTx bool // between Begin and Commit/Rollback
	// conns and txns are what the session holds of its principal's share.
	conns, txns fairshare.Slot
	// sc is the context of the statement running (Exec on an
	// engine.Interrupter), reused across the session's statements.
	sc stmtCtx

	mu       sync.Mutex // guards following fields
	detached bool       // a statement runs on after its call returned
	closing  bool       // Close was called while detached
	discard  bool       // the connection must be closed, not reused
}

// ID returns the backend connection id (the Data API's dbConnectionId).
func (s *Session) ID() int64 { return s.id }

// Conn returns the engine connection, for engine-specific extras such as
// column descriptions. Statements go through Exec.
func (s *Session) Conn() engine.Conn { return s.conn.Conn }

// Dialect returns the cluster's SQL dialect.
func (s *Session) Dialect() engine.Dialect { return s.cl.Dialect }

// InTx reports whether a transaction begun with Begin is open.
func (s *Session) InTx() bool { return s.inTx }

// Begin opens a transaction under the statement timeout.
func (s *Session) Begin(ctx context.Context) error {
	err := s.bounded(ctx, s.conn.Begin)
	s.inTx = err == nil
	return err
}

// Commit commits the transaction.
func (s *Session) Commit(ctx context.Context) error {
	s.inTx = false
	return s.bounded(ctx, s.conn.Commit)
}

// Rollback rolls the transaction back.
func (s *Session) Rollback(ctx context.Context) error {
	s.inTx = false
	return s.bounded(ctx, s.conn.Rollback)
}

func (s *Session) bounded(ctx context.Context, fn func(context.Context) error) error {
	sctx, cancel := context.WithTimeout(ctx, s.cl.StatementTimeout)
	defer cancel()
	return timeoutErr(ctx, sctx, fn(sctx))
}

// Close gives the connection back. A transaction still open is rolled
// back; a dirty session is reset; a broken connection, or one whose reset
// fails, is closed. While a detached statement runs, the connection is
// given back when it finishes.
func (s *Session) Close() {
	s.mu.Lock()
	if s.detached {
		s.closing = true
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.release()
}

func (s *Session) release() {
	c := s.conn
	if c == nil {
		return
	}
	s.conn = nil
	defer s.releaseShare()
	p := s.cl.Pool
	s.mu.Lock()
	discard := s.discard
	s.mu.Unlock()
	if discard || c.Broken() {
		p.Discard(c)
		return
	}
	if !c.Dirty() {
		p.Release(c)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), resetTimeout)
	defer cancel()
	if err := c.Reset(ctx); err != nil {
		if !errors.Is(err, engine.ErrResetUnsupported) {
			s.cl.log().Debug("session reset failed; connection closed", "cluster", s.cl.Name, "err", err)
		}
		p.Discard(c)
		return
	}
	s.inTx = false
	p.Release(c)
}

// releaseShare gives back what the session held of its principal's share,
// after its connection went back to the pool.
func (s *Session) releaseShare() {
	s.conns.Release()
	s.txns.Release()
	s.conns, s.txns = fairshare.Slot{}, fairshare.Slot{}
}
