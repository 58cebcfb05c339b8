// Package mysql implements engine.Engine for MySQL and MariaDB on sqlgate's
// own protocol client (internal/mysqlwire), mapping results the way the
// Aurora Data API (which runs MySQL Connector/J) does: see docs/dataapi.md
// for the type mapping.
//
// Statements run over the text protocol (COM_QUERY) with parameters
// inlined as literals, as Connector/J does by default: one round trip per
// statement. Literals are written so that no session character set can
// re-read them as SQL (literal.go).
//
// Each connection tracks its session state (session.go): the server's
// session tracking (SERVER_SESSION_STATE_CHANGED, switched on at connect),
// the transaction status flag and a scan of each statement for what
// tracking does not report (user variables assigned in SELECT, named
// locks, LAST_INSERT_ID(expr), …). Dirty reports it, and Reset clears it
// with COM_RESET_CONNECTION in one pipelined round trip.
package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// Config locates one MySQL/MariaDB server.
type Config struct {
	// Address is host:port of the server.
	Address string
	// TLSMode is "disable" (or empty), "require" (encrypt, no certificate
	// check) or "verify-full" (encrypt and verify the chain and host name).
	TLSMode string
	// CAFile is a PEM bundle for verify-full; empty uses the system roots.
	CAFile string
	// ConnectTimeout bounds dialing and the login handshake; zero or
	// negative means only the caller's ctx bounds it.
	ConnectTimeout time.Duration
	// Writer, when set, returns the address to dial now instead of
	// Address: the current writer of a cluster with instances.
	Writer func() string
}

// address is the server to dial now.
func (e *Engine) address() string {
	if e.cfg.Writer != nil {
		return e.cfg.Writer()
	}
	return e.cfg.Address
}

// moved reports whether the writer is no longer addr, so a connection to
// addr must not be reused.
func (e *Engine) moved(addr string) bool {
	return e.cfg.Writer != nil && e.cfg.Writer() != addr
}

// killTimeout bounds the side connection that sends KILL QUERY.
const killTimeout = 5 * time.Second

// Engine opens MySQL connections for one server.
type Engine struct {
	cfg Config
}

var _ engine.Engine = (*Engine)(nil)

// New returns an Engine for cfg. It does not touch the network.
func New(cfg Config) *Engine { return &Engine{cfg: cfg} }

// Name returns "mysql".
func (e *Engine) Name() string { return "mysql" }

// Close releases nothing: connections are closed by their owners.
func (e *Engine) Close() error { return nil }

// Connect opens one connection logged in as creds, with session tracking
// on (one statement after the login).
func (e *Engine) Connect(ctx context.Context, creds engine.Credentials) (engine.Conn, error) {
	addr := e.address()
	cl, err := e.dial(ctx, creds, addr)
	if err != nil {
		return nil, err
	}
	c := &Conn{eng: e, creds: creds, cl: cl, id: int64(cl.ConnID()), schema: creds.Database, addr: addr}
	cl.OnState = c.onState
	if err := c.setup(ctx, nil); err != nil {
		_ = cl.Close()
		return nil, fmt.Errorf("set up session: %w", err)
	}
	return c, nil
}

// dial opens a client connection. Settings mimic Connector/J as the Data
// API runs it: CLIENT_FOUND_ROWS (Connector/J's default
// useAffectedRows=false, so UPDATE counts matched rows), utf8mb4, text
// protocol; values are rendered exactly as the server sends them.
func (e *Engine) dial(ctx context.Context, creds engine.Credentials, addr string) (*mysqlwire.Client, error) {
	opts, err := e.options(creds, addr)
	if err != nil {
		return nil, err
	}
	cl, err := mysqlwire.Dial(ctx, opts)
	if err != nil {
		return nil, e.connectError(err, addr)
	}
	return cl, nil
}

func (e *Engine) options(creds engine.Credentials, addr string) (mysqlwire.Options, error) {
	tc, err := e.tlsConfig(addr)
	if err != nil {
		return mysqlwire.Options{}, err
	}
	return mysqlwire.Options{
		Address: addr, User: creds.User, Password: creds.Password, Database: creds.Database,
		TLS: tc, ExtraCaps: mysqlwire.CapFoundRows, Timeout: max(e.cfg.ConnectTimeout, 0),
		Attrs: map[string]string{"_client_name": "sqlgate", "program_name": "sqlgate"},
	}, nil
}

// connectError maps a login failure: the server's own errors (access
// denied, unknown database) are DBErrors, the rest ErrUnavailable.
func (e *Engine) connectError(err error, addr string) error {
	var se *mysqlwire.Error
	if errors.As(err, &se) {
		return engine.ConnectRefusal(dbError(se))
	}
	return fmt.Errorf("connect %s: %w: %w", addr, engine.ErrUnavailable, err)
}

func (e *Engine) tlsConfig(addr string) (*tls.Config, error) {
	switch e.cfg.TLSMode {
	case "", "disable":
		return nil, nil
	case "require":
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil //nolint:gosec // mode "require" means no verification
	case "verify-full":
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if e.cfg.CAFile != "" {
			pem, err := os.ReadFile(e.cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("read CA file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("read CA file %s: no certificates", e.cfg.CAFile)
			}
		}
		return tc, nil
	}
	return nil, fmt.Errorf("mysql: unknown TLS mode %q", e.cfg.TLSMode)
}

// kill stops the statement running on connection id with KILL QUERY sent
// over a separate connection with the same login to the same server addr.
func (e *Engine) kill(ctx context.Context, creds engine.Credentials, addr string, id int64) error {
	creds.Database = ""
	opts, err := e.options(creds, addr)
	if err != nil {
		return err
	}
	if err := mysqlwire.KillQuery(ctx, opts, uint64(id)); err != nil {
		return e.connectError(err, addr)
	}
	return nil
}
