// Package postgres implements engine.Engine for PostgreSQL with pgx's pgconn:
// one raw backend connection per engine.Conn, statements sent with the
// extended protocol and explicitly typed parameters, results read in text
// format and mapped to Data API Fields as in docs/dataapi.md ("Types").
//
// Sessions are set to TimeZone=UTC (timestamptz values come back in UTC with
// the offset removed, as on AWS), DateStyle=ISO, IntervalStyle=postgres,
// bytea_output=hex and extra_float_digits=3 (shortest exact float text, so
// 0.1::float4 reads back as 0.1 and 123::float8 as 123).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/rawconn"
)

// cancelGrace is how long a cancelled statement may take to stop after the
// CancelRequest before the socket deadline fires and the connection is
// dropped as broken.
const cancelGrace = 5 * time.Second

// Config locates one PostgreSQL server (cluster writer).
type Config struct {
	// Address is "host:port"; a missing port means 5432 and an empty
	// Address means "127.0.0.1:5432".
	Address string
	// TLSMode is "disable" (zero value), "require" (encrypt, don't verify) or
	// "verify-full" (verify the chain against CAFile and the host name).
	TLSMode string
	// CAFile is a PEM bundle for verify-full; empty uses the system roots.
	CAFile string
	// ConnectTimeout bounds one connection attempt; zero or negative means
	// only the caller's ctx bounds it.
	ConnectTimeout time.Duration
	// Writer, when set, returns the "host:port" to dial now instead of
	// Address: the current writer of a cluster with instances.
	Writer func() string
}

// Engine opens PostgreSQL connections for one cluster.
type Engine struct {
	cfg Config

	once    sync.Once
	base    *pgconn.Config // parsed once; copied per Connect
	baseErr error
}

var _ engine.Engine = (*Engine)(nil)

// New returns an Engine for cfg. It does not touch the network; a bad
// Config surfaces as an error from the first Connect.
func New(cfg Config) *Engine {
	return &Engine{cfg: cfg}
}

// Name returns "postgres".
func (e *Engine) Name() string { return "postgres" }

// Close releases nothing: connections are closed by their owners.
func (e *Engine) Close() error { return nil }

// Connect opens one backend connection logged in with creds. An empty
// creds.Database selects the database named after the user, PostgreSQL's own
// default, as the Data API does. Unreachable servers give an
// error wrapping engine.ErrUnavailable; rejected logins a *engine.DBError.
func (e *Engine) Connect(ctx context.Context, creds engine.Credentials) (engine.Conn, error) {
	e.once.Do(func() { e.base, e.baseErr = parseConfig(e.cfg) })
	if e.baseErr != nil {
		return nil, e.baseErr
	}
	cfg := e.base.Copy()
	writer := ""
	if e.cfg.Writer != nil {
		writer = e.cfg.Writer()
		PointAt(cfg, writer)
	}
	cfg.User = creds.User
	cfg.Password = creds.Password
	cfg.Database = creds.Database
	if cfg.Database == "" {
		cfg.Database = creds.User
	}
	pg, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return nil, engine.ConnectRefusal(dbError(pgErr))
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect postgres: %w: %w", engine.ErrUnavailable, ctx.Err())
		}
		return nil, fmt.Errorf("connect postgres: %w: %w", engine.ErrUnavailable, err)
	}
	c := newConn(pg)
	if e.cfg.Writer != nil {
		c.moved = func() bool { return e.cfg.Writer() != writer }
	}
	return c, nil
}

// parseConfig builds the connection settings shared by every Connect.
func parseConfig(c Config) (*pgconn.Config, error) {
	addr := c.Address
	if addr == "" {
		addr = "127.0.0.1:5432"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "5432"
	}
	mode := c.TLSMode
	switch mode {
	case "":
		mode = "disable"
	case "disable", "require", "verify-full":
	default:
		return nil, fmt.Errorf("postgres config: invalid TLS mode %q", c.TLSMode)
	}
	cfg, err := ServerConfig(host, port, mode, c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("parse postgres config: %w", err)
	}
	if c.ConnectTimeout > 0 {
		cfg.ConnectTimeout = c.ConnectTimeout
	}
	cfg.RuntimeParams["TimeZone"] = "UTC"
	cfg.RuntimeParams["DateStyle"] = "ISO, MDY"
	cfg.RuntimeParams["IntervalStyle"] = "postgres"
	cfg.RuntimeParams["extra_float_digits"] = "3"
	cfg.RuntimeParams["bytea_output"] = "hex"
	cfg.RuntimeParams["client_encoding"] = "UTF8"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "sqlgate"
	}
	// Cancelling a statement's ctx sends a real CancelRequest to the backend
	// (the default handler would only close the socket and leave the query
	// running); the deadline is the fallback that breaks the connection.
	cfg.BuildContextWatcherHandler = func(pg *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pg, DeadlineDelay: cancelGrace}
	}
	return cfg, nil
}

// ServerConfig parses the connection settings that reach the server at
// host:port with sslmode mode and, when caFile is set, its CA
// (sslrootcert). The caller adds the login and runtime parameters. The
// Data API engine and the PostgreSQL proxy's backends both start here.
func ServerConfig(host, port, mode, caFile string) (*pgconn.Config, error) {
	conn := "host=" + quote(host) + " port=" + quote(port) + " sslmode=" + mode
	if caFile != "" {
		conn += " sslrootcert=" + quote(caFile)
	}
	cfg, err := pgconn.ParseConfig(conn)
	if err != nil {
		return nil, err
	}
	cfg.DialFunc = dialRaw
	return cfg, nil
}

// dialer is pgconn's default dialer (its keep-alive included).
var dialer = &net.Dialer{KeepAlive: 5 * time.Minute}

// dialRaw dials as pgconn does and wraps the socket (rawconn.Wrap): the
// Data API's statements and the proxy's transactions read and write it
// with raw system calls.
func dialRaw(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return rawconn.Wrap(c), nil
}

// quote quotes a keyword/value connection string value.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// PointAt points cfg (and its fallbacks) at addr, a cluster's current
// writer, the TLS server name included; port 5432 when addr has none.
func PointAt(cfg *pgconn.Config, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "5432"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return // validated config addresses always parse
	}
	cfg.Host, cfg.Port = host, uint16(p)
	for _, fb := range cfg.Fallbacks {
		fb.Host, fb.Port = host, uint16(p)
	}
	if cfg.TLSConfig != nil && cfg.TLSConfig.ServerName != "" {
		cfg.TLSConfig = cfg.TLSConfig.Clone() // shared by Copy
		cfg.TLSConfig.ServerName = host
	}
}
