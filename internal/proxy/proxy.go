// Package proxy is the protocol-agnostic core of sqlgate's connection-pooling
// proxies (the RDS Proxy analog, ../../docs/proxy.md): the accept loop with
// client limits and graceful shutdown (Server, Session), client
// authentication against the cluster's auth_secrets or IAM tokens
// (Authenticator), a backend connection pool keyed by login that draws every
// connection from the cluster's shared max_connections budget (Pool), TLS
// certificate loading, and the sqlgate_proxy_* metrics.
//
// Front ends (pgproxy, mysqlproxy) implement Handler for their wire
// protocol and own everything protocol-specific: message relay, transaction
// boundaries, pinning and state replay.
package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/metrics"
)

// SecretReader reads a secret's current SecretString, a JSON object with at
// least "username" and "password" (optionally "dbname"). id is a name or ARN.
type SecretReader interface {
	SecretString(ctx context.Context, id string) (arn, value string, err error)
}

// TokenVerifier checks an IAM database auth token (aws rds
// generate-db-auth-token) for user on cluster, including an allowing
// rds-db:connect policy. A nil error means the token is valid.
type TokenVerifier interface {
	VerifyDBToken(ctx context.Context, token, cluster, user string) error
}

// Budget hands out slots of the cluster's max_connections budget, shared
// with the Data API (and, for nodes sharing a state store, this node's
// leased share of it). No method does I/O: the lease only changes the
// local limit, so the pool's hot path never waits on the state store.
// A release func gives its slot back and is called exactly once.
type Budget interface {
	// TryReserve takes a slot only if one is free now; it never waits.
	TryReserve() (release func(), ok bool)
	// Reserve waits for a slot until ctx is done.
	Reserve(ctx context.Context) (release func(), err error)
	// Over reports that more slots are held than the budget now allows
	// (it was lowered, or the node's lease shrank): a connection coming
	// back is closed rather than kept or handed on.
	Over() bool
}

// Deps is what a proxy front end needs from the rest of sqlgate.
type Deps struct {
	// Cluster is the cluster this proxy fronts; Cluster.Proxy must be non-nil.
	Cluster config.Cluster
	// DataDir holds the generated self-signed certificate.
	DataDir string
	// Budget is the cluster's connection budget (pool.Pool satisfies it).
	Budget  Budget
	Secrets SecretReader
	// Tokens verifies IAM auth tokens; nil disables IAM auth.
	Tokens TokenVerifier
	// Metrics is the registry the sqlgate_proxy_* families are added to;
	// nil uses a private registry.
	Metrics *metrics.Registry
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Writer, when set, returns the "host:port" every new backend
	// connection dials (a replicated cluster's current writer) instead of
	// Cluster.Address; a pooled connection to an address that is no
	// longer the writer counts as broken and is closed, never reused.
	Writer func() string
	// Shares is the cluster's per-principal accounting (limits
	// max_connections_per_principal …); a proxy client counts as its
	// login user. nil bounds nothing.
	Shares *fairshare.Shares
	// Route, when set, chooses the instance of every transaction instead
	// of Writer (a read-only endpoint): the pool asks it on each borrow and
	// hands out an idle connection to that instance, or opens one; a
	// pooled connection to an instance it no longer serves counts as
	// broken.
	Route Route
}

// Route chooses the instance each transaction of a read-only endpoint
// runs on (topology.Balancer).
type Route interface {
	// Pick returns the "host:port" of the instance the next transaction
	// should use and done, called once when that transaction's borrow
	// ends (the connection comes back or its dial failed); an error means
	// no instance may serve (the pool sends it as ErrNoReader).
	Pick() (addr string, done func(), err error)
	// Serves reports whether a connection to addr may still be used.
	Serves(addr string) bool
	// Down reports that a borrow could not connect to addr: it gets no
	// picks until a health check finds it serving again.
	Down(addr string, err error)
	// Connected counts a connection opened to addr until closed is
	// called (once), for metrics.
	Connected(addr string) (closed func())
}

// Login is the backend login of an authenticated client: the credentials
// from the auth secret whose username the client logged in with.
type Login struct {
	User, Password, Database string
	// SecretARN is the secret the credentials came from.
	SecretARN string
	// ViaIAM is true when the client presented an IAM token.
	ViaIAM bool
	// Instance is the "host:port" the connection goes to when the pool
	// routes (PoolConfig.Route) and sets it; "" is the front end's own
	// choice (the writer, or the fixed address).
	Instance string
}

// Key is the pool key of a login: user, password hash and database. Two
// logins with equal keys can share backend connections.
type Key [sha256.Size]byte

// Key returns l's pool key.
func (l Login) Key() Key {
	h := sha256.New()
	h.Write([]byte(l.User))
	h.Write([]byte{0})
	h.Write([]byte(l.Password))
	h.Write([]byte{0})
	h.Write([]byte(l.Database))
	if l.Instance != "" {
		h.Write([]byte{0})
		h.Write([]byte(l.Instance))
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// LogValue keeps the password out of logs.
func (l Login) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", l.User), slog.String("database", l.Database), slog.Bool("iam", l.ViaIAM))
}

// Errors front ends map to their protocol's error codes.
var (
	// ErrAuthFailed: unknown user, wrong password or rejected IAM token. The
	// client is told only that authentication failed.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrTooManyClients: max_client_connections reached.
	ErrTooManyClients = errors.New("too many client connections")
	// ErrBorrowTimeout: no backend connection became free within borrow_timeout.
	ErrBorrowTimeout = errors.New("timed out waiting for a database connection")
	// ErrBackendDown: the database refused or did not answer recent
	// connection attempts; the pool fails fast until its retry delay passes.
	ErrBackendDown = errors.New("database unavailable")
	// ErrNoReader: a read-only endpoint has no instance to send work to
	// (no healthy reader within max_replica_lag, no writer fallback). It
	// comes wrapped with ErrBackendDown, so the pool fails fast.
	ErrNoReader = errors.New("no reader instance available")
	// ErrShuttingDown: the proxy is draining for shutdown.
	ErrShuttingDown = errors.New("proxy shutting down")
	// ErrPoolClosed: the pool was closed.
	ErrPoolClosed = errors.New("proxy pool closed")
	// ErrIdleTimeout: the client was idle longer than idle_client_timeout.
	ErrIdleTimeout = errors.New("idle client timeout")
)

// LoginRefused reports whether err (from a DialFunc) is the database
// refusing the login: an error with an SQLState() method answering class
// 28, invalid authorization (MySQL 1045 is 28000, PostgreSQL 28P01).
func LoginRefused(err error) bool {
	var s interface{ SQLState() string }
	return errors.As(err, &s) && strings.HasPrefix(s.SQLState(), "28")
}

// Retryable reports whether err means the request never reached the
// database, so the client may safely retry it.
func Retryable(err error) bool {
	return errors.Is(err, ErrBorrowTimeout) || errors.Is(err, ErrBackendDown) ||
		errors.Is(err, ErrTooManyClients) || errors.Is(err, ErrShuttingDown)
}
