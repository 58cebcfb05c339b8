package mysql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// killGrace is how long a killed statement may take to return before the
// socket is closed (and the connection marked broken).
const killGrace = 2 * time.Second

// Conn is one MySQL connection. It is not safe for concurrent use.
type Conn struct {
	eng    *Engine
	creds  engine.Credentials // for the KILL QUERY side connection and Reset
	cl     *mysqlwire.Client
	addr   string // the server dialed
	id     int64
	broken bool
	// state: the session may hold state since Connect or the last Reset
	// (reported by session tracking, a statement scan, or an OK packet).
	state bool
	// lastID: the only state is a generated LAST_INSERT_ID. Reset then
	// clears it lazily: clearID queues "DO LAST_INSERT_ID(0)" in front of
	// the next command, in the same write (session.go).
	lastID, clearID bool
	// last: Exec runs as ExecLast; clearAfter: it sends the
	// LAST_INSERT_ID clear behind the statement (session.go).
	last, clearAfter bool
	// unsure: the session's settings (the character set among them) may
	// differ from Connect's; parameters are then written as hex literals.
	unsure bool
	// schema is the current database as session tracking reported it.
	schema string
	// quiet: session-state reports are expected (set-up, reset), not dirt.
	quiet   bool
	markers []int
	stmts   stmtCache  // prepared statements (stmtcache.go)
	intr    interrupts // Interrupt (cancel.go)
	// textHint and cellHint are the arena size and value count of the
	// previous result (read.go); lazy: the running Exec's context asked
	// for engine.Cells.
	textHint, cellHint int
	lazy               bool
	buf                []byte
	scratch            []byte // a binary value rendered as text (read)
}

var _ engine.Conn = (*Conn)(nil)

// ID returns the server's CONNECTION_ID().
func (c *Conn) ID() int64 { return c.id }

// Broken reports whether the connection must be discarded.
// A connection to a cluster's former writer counts as broken, so the pool
// closes it instead of reusing it.
func (c *Conn) Broken() bool { return c.broken || c.eng.moved(c.addr) }

// Close says goodbye (COM_QUIT) and closes the connection; a broken one
// is just closed.
func (c *Conn) Close() error {
	if c.broken {
		_ = c.cl.Close()
		return nil
	}
	c.broken = true
	if err := c.cl.Quit(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("mysql: close: %w", err)
	}
	return nil
}

// Ping checks the connection with COM_PING.
func (c *Conn) Ping(ctx context.Context) error {
	if c.Broken() {
		return errBroken
	}
	return c.guard(ctx, c.cl.Ping)
}

// Begin starts a transaction.
func (c *Conn) Begin(ctx context.Context) error { return c.simple(ctx, "START TRANSACTION") }

// Commit commits the transaction.
func (c *Conn) Commit(ctx context.Context) error { return c.simple(ctx, "COMMIT") }

// Rollback rolls the transaction back.
func (c *Conn) Rollback(ctx context.Context) error { return c.simple(ctx, "ROLLBACK") }

func (c *Conn) simple(ctx context.Context, sql string) error {
	_, err := c.run(ctx, sql, nil, 0, false)
	return err
}

// Exec runs one statement with its ":name" parameters.
func (c *Conn) Exec(ctx context.Context, sql string, params []engine.Param, maxBytes int) (*engine.Result, error) {
	st, ordered, err := engine.Prepare(sql, engine.DialectMySQL, params)
	if err != nil {
		return nil, err
	}
	args, err := bind(ordered)
	if err != nil {
		return nil, err
	}
	noBackslash := c.cl.Status()&mysqlwire.StatusNoBackslashEscape != 0
	mode := c.literalMode(noBackslash)
	sc := scanStatement(st.SQL, noBackslash, c.markers)
	c.markers = sc.markers
	if sc.stateful {
		c.state, c.unsure = true, true
	}
	c.clearAfter = c.last && sc.inserts && !sc.stateful && c.cl.Status()&mysqlwire.StatusInTrans == 0
	defer func() { c.clearAfter = false }()
	if len(args) > 0 && len(sc.markers) != len(args) {
		// The text holds a '?' of its own outside literals: let the server
		// parse it as a prepared statement, binding the values.
		return c.runPrepared(ctx, st.SQL, args, maxBytes)
	}
	query := st.SQL
	if len(args) > 0 {
		c.buf = interpolate(c.buf[:0], st.SQL, sc.markers, args, mode)
		query = string(c.buf)
		if cap(c.buf) > 64<<10 {
			c.buf = nil
		}
	}
	return c.run(ctx, query, nil, maxBytes, c.cacheable(query, sc, len(args)))
}

// runPrepared runs sql over the binary protocol and closes the statement.
func (c *Conn) runPrepared(ctx context.Context, sql string, args []arg, maxBytes int) (*engine.Result, error) {
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	return c.run(ctx, sql, vals, maxBytes, false)
}

// run executes query (prepared with args when args is non-nil, through the
// statement cache when cache is set), stopping it on the server when ctx
// ends.
//
// Cancelling the caller's ctx first sends KILL QUERY from a side
// connection, so the statement really stops and this connection stays
// usable; only if that fails or the server does not answer within
// killGrace is the socket closed (and the connection broken).
func (c *Conn) run(ctx context.Context, query string, args []any, maxBytes int, cache bool) (*engine.Result, error) {
	c.lazy = engine.LazyDecode(ctx)
	if c.broken {
		return nil, errBroken
	}
	if len(query)+1 > maxQuery {
		return nil, errPktTooLarge
	}
	a := &aborter{c: c}
	// A ctx with no Done channel is the execution service's: it calls
	// Interrupt instead of ending ctx (engine.Interrupter).
	watched := ctx.Done() == nil
	var w *watcher
	if watched {
		c.begin(a.abort)
	}
	if err := ctx.Err(); err != nil {
		if watched {
			c.end()
		}
		return nil, ctxError(err)
	}
	if !watched {
		w = c.watch(ctx, a.abort)
	}
	res, err := c.exec(query, args, maxBytes, cache, a.abort)
	var fired bool
	if watched {
		fired = c.end()
	} else {
		fired = w.stop()
	}
	if a.done() {
		c.broken = true // the socket was closed under the statement
	}
	if fired && ctx.Err() != nil {
		return nil, ctxError(ctx.Err())
	}
	return res, err
}

func (c *Conn) exec(query string, args []any, maxBytes int, cache bool, abort func()) (*engine.Result, error) {
	if err := c.prelude(); err != nil {
		return nil, err
	}
	defer c.checkPrelude()
	if args == nil && c.clearAfter {
		// The generated id's clear rides behind the statement (text
		// protocol), so this INSERT does not go through the cache.
		return c.execThenClear(query, maxBytes, abort)
	}
	if cache {
		st, err := c.cached(query)
		if err != nil {
			return nil, err
		}
		if st != nil {
			return c.execCached(st, query, maxBytes, abort)
		}
	}
	if args == nil {
		rows, err := c.cl.Query(query)
		if err != nil {
			return nil, c.fail(err)
		}
		return c.read(rows, maxBytes, abort)
	}
	st, err := c.cl.Prepare(query)
	if err != nil {
		return nil, c.fail(err)
	}
	defer func() { _ = c.cl.CloseStmt(st) }()
	rows, err := c.cl.Execute(st, args)
	if err != nil {
		return nil, c.fail(err)
	}
	return c.read(rows, maxBytes, abort)
}

// guard runs a command that takes no statement time (ping, reset),
// closing the socket if ctx ends first.
func (c *Conn) guard(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return ctxError(err)
	}
	a := &aborter{c: c}
	stop := context.AfterFunc(ctx, a.abort)
	err := fn()
	stop()
	if a.done() {
		c.broken = true
		return ctxError(ctx.Err())
	}
	if err != nil {
		return c.fail(err)
	}
	return nil
}

// fail classifies a client error, marking the connection broken unless the
// server reported it (the connection then is still in sync).
func (c *Conn) fail(err error) error {
	if e, ok := asDBError(err); ok {
		if fatalCodes[e.Code] {
			c.broken = true
		}
		return e
	}
	c.broken = true
	return fmt.Errorf("mysql: %w: %w", engine.ErrUnavailable, err)
}

func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", engine.ErrTimeout, err)
	}
	return err
}
