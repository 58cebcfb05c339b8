// Package mysql implements engine.Engine for MySQL and MariaDB on top of
// github.com/go-sql-driver/mysql, mapping results the way the Aurora Data API
// (which runs MySQL Connector/J) does: spec §4.6 and §4.10.
//
// The package drives the driver at the database/sql/driver level: sqlgate's
// own pool (internal/pool) owns connections, so database/sql's pool would only
// add a second layer, and the driver-level rows carry the column definitions
// the Data API metadata needs (see field.go).
package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/engine"
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

// Connect opens one connection logged in as creds and reads its CONNECTION_ID().
func (e *Engine) Connect(ctx context.Context, creds engine.Credentials) (engine.Conn, error) {
	dc, err := e.dial(ctx, creds)
	if err != nil {
		return nil, err
	}
	c := &Conn{eng: e, creds: creds, dc: dc}
	res, err := c.run(ctx, "SELECT CONNECTION_ID()", nil, 0)
	if err != nil {
		_ = dc.Close()
		return nil, fmt.Errorf("read connection id: %w", err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 || res.Rows[0][0].Kind != engine.KindLong {
		_ = dc.Close()
		return nil, fmt.Errorf("read connection id: unexpected result %v", res.Rows)
	}
	c.id = res.Rows[0][0].Long
	return c, nil
}

// dial opens a driver connection. Settings mimic Connector/J as the Data API
// runs it: CLIENT_FOUND_ROWS (Connector/J's default useAffectedRows=false, so
// UPDATE counts matched rows), text protocol with client-side parameter
// interpolation (Connector/J's default useServerPrepStmts=false, one round
// trip), no time parsing (values are rendered exactly as the server sends them).
func (e *Engine) dial(ctx context.Context, creds engine.Credentials) (driver.Conn, error) {
	cfg := mysql.NewConfig()
	cfg.User = creds.User
	cfg.Passwd = creds.Password
	cfg.DBName = creds.Database
	cfg.Net = "tcp"
	cfg.Addr = e.cfg.Address
	cfg.Timeout = max(e.cfg.ConnectTimeout, 0)
	cfg.Loc = time.UTC
	cfg.Logger = &mysql.NopLogger{}
	cfg.ClientFoundRows = true
	cfg.InterpolateParams = true
	cfg.ColumnsWithAlias = true // makes the driver keep each column's table name
	cfg.CheckConnLiveness = false
	tc, err := e.tlsConfig()
	if err != nil {
		return nil, err
	}
	cfg.TLS = tc
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql config: %w", err)
	}
	dc, err := connector.Connect(ctx)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return nil, dbError(me)
		}
		return nil, fmt.Errorf("connect %s: %w: %w", e.cfg.Address, engine.ErrUnavailable, err)
	}
	return dc, nil
}

func (e *Engine) tlsConfig() (*tls.Config, error) {
	switch e.cfg.TLSMode {
	case "", "disable":
		return nil, nil
	case "require":
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil //nolint:gosec // mode "require" means no verification
	case "verify-full":
		host, _, err := net.SplitHostPort(e.cfg.Address)
		if err != nil {
			host = e.cfg.Address
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
// over a separate connection with the same login.
func (e *Engine) kill(ctx context.Context, creds engine.Credentials, id int64) error {
	creds.Database = ""
	dc, err := e.dial(ctx, creds)
	if err != nil {
		return err
	}
	defer dc.Close()
	ex, ok := dc.(driver.ExecerContext)
	if !ok {
		return errors.New("BUG: mysql driver conn is not an ExecerContext")
	}
	_, err = ex.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", id), nil)
	return err
}
