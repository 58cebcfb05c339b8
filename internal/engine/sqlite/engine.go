// Package sqlite implements engine.Engine for an embedded SQLite database
// (modernc.org/sqlite, pure Go, through database/sql).
//
// SQLite has no logins: Credentials.User and Password are ignored, and access
// control is entirely sqlgate's (IAM and secrets). Credentials.Database
// selects the file: "" or "main" is Config.Path, any other name N (1-64
// letters, digits or underscores) is <DataDir>/N.db, created on first use
// like any SQLite file. Every file is opened in WAL mode with
// busy_timeout=5000 and foreign_keys=on.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Config locates the database files.
type Config struct {
	// Path is the main database file (database "" or "main"). Required.
	Path string
	// DataDir holds the other databases, one <name>.db file each. Empty
	// means the directory of Path.
	DataDir string
}

// Engine opens connections to SQLite database files.
type Engine struct {
	cfg    Config
	main   *sql.DB
	nextID atomic.Int64

	mu     sync.Mutex // guards following fields
	dbs    map[string]*sql.DB
	closed bool
}

var _ engine.Engine = (*Engine)(nil)

// dbNameRE is the syntax of a non-main database name; it cannot reach
// outside DataDir.
var dbNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// New opens the main database file (creating it if needed) and switches it
// to WAL mode.
func New(cfg Config) (*Engine, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite config: path: required")
	}
	if strings.ContainsAny(cfg.Path, "?#") {
		return nil, fmt.Errorf("sqlite config: path: %q must not contain ? or #", cfg.Path)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Dir(cfg.Path)
	}
	db, err := open(cfg.Path)
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, main: db, dbs: map[string]*sql.DB{}}, nil
}

// open opens one database file and checks it can be used.
func open(path string) (*sql.DB, error) {
	dsn := path + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// The pool in internal/pool bounds how many connections are in use; keep
	// a few idle ones so that Connect is cheap.
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// Name returns "sqlite".
func (e *Engine) Name() string { return "sqlite" }

// Connect returns a connection to the database creds.Database names (see the
// package doc); user and password are ignored. A malformed name is a
// *engine.DBError.
func (e *Engine) Connect(ctx context.Context, creds engine.Credentials) (engine.Conn, error) {
	db, err := e.db(creds.Database)
	if err != nil {
		return nil, err
	}
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect sqlite: %w: %w", engine.ErrUnavailable, err)
	}
	conn := &Conn{c: c, id: e.nextID.Add(1)}
	if err := conn.restrict(); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect sqlite: %w", err)
	}
	return conn, nil
}

// db returns the *sql.DB of a database name, opening it on first use.
func (e *Engine) db(name string) (*sql.DB, error) {
	if name == "" || name == "main" {
		return e.main, nil
	}
	if !dbNameRE.MatchString(name) {
		return nil, &engine.DBError{
			Message:  fmt.Sprintf("Invalid database name %q: use 1 to 64 letters, digits or underscores.", name),
			SQLState: "3D000",
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, fmt.Errorf("connect sqlite: %w: engine closed", engine.ErrUnavailable)
	}
	if db, ok := e.dbs[name]; ok {
		return db, nil
	}
	if err := os.MkdirAll(e.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("connect sqlite: %w: %w", engine.ErrUnavailable, err)
	}
	db, err := open(filepath.Join(e.cfg.DataDir, name+".db"))
	if err != nil {
		return nil, fmt.Errorf("connect sqlite: %w: %w", engine.ErrUnavailable, err)
	}
	e.dbs[name] = db
	return db, nil
}

// Close closes every database file; open Conns fail afterwards.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	errs := []error{e.main.Close()}
	for _, db := range e.dbs {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}
