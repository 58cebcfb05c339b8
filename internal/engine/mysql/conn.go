package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// killGrace is how long a killed statement may take to return before the
// socket is closed (and the connection marked broken).
const killGrace = 2 * time.Second

// Conn is one MySQL connection. It is not safe for concurrent use.
type Conn struct {
	eng    *Engine
	creds  engine.Credentials // for the KILL QUERY side connection
	dc     driver.Conn
	id     int64
	broken bool
}

var _ engine.Conn = (*Conn)(nil)

// ID returns the server's CONNECTION_ID().
func (c *Conn) ID() int64 { return c.id }

// Broken reports whether the connection must be discarded.
func (c *Conn) Broken() bool { return c.broken }

// Close closes the connection.
func (c *Conn) Close() error {
	err := c.dc.Close()
	if c.broken || errors.Is(err, driver.ErrBadConn) {
		return nil
	}
	return err
}

// Ping checks the connection with COM_PING.
func (c *Conn) Ping(ctx context.Context) error {
	if c.broken {
		return errBroken
	}
	p, ok := c.dc.(driver.Pinger)
	if !ok {
		return nil
	}
	if err := p.Ping(ctx); err != nil {
		return c.fail(err)
	}
	return nil
}

// Begin starts a transaction.
func (c *Conn) Begin(ctx context.Context) error { return c.simple(ctx, "START TRANSACTION") }

// Commit commits the transaction.
func (c *Conn) Commit(ctx context.Context) error { return c.simple(ctx, "COMMIT") }

// Rollback rolls the transaction back.
func (c *Conn) Rollback(ctx context.Context) error { return c.simple(ctx, "ROLLBACK") }

func (c *Conn) simple(ctx context.Context, sql string) error {
	_, err := c.run(ctx, sql, nil, 0)
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
	return c.run(ctx, st.SQL, args, maxBytes)
}

// run executes query, stopping it on the server when ctx ends.
//
// The driver gets a ctx of our own: cancelling the caller's ctx first sends
// KILL QUERY from a side connection, so the statement really stops and this
// connection stays usable; only if that fails or the server does not answer
// within killGrace is the driver's ctx cancelled, which closes the socket.
func (c *Conn) run(ctx context.Context, query string, args []driver.NamedValue, maxBytes int) (*engine.Result, error) {
	if c.broken {
		return nil, errBroken
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err)
	}
	dctx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	w := c.watch(ctx, abort)
	res, err := c.query(dctx, query, args, maxBytes, abort)
	fired := w.stop()
	if dctx.Err() != nil {
		c.broken = true // the driver closed the socket
	}
	if fired && ctx.Err() != nil {
		return nil, ctxError(ctx.Err())
	}
	return res, err
}

func (c *Conn) query(ctx context.Context, query string, args []driver.NamedValue, maxBytes int, abort func()) (*engine.Result, error) {
	q, ok := c.dc.(driver.QueryerContext)
	if !ok {
		return nil, errors.New("BUG: mysql driver conn is not a QueryerContext")
	}
	rows, err := q.QueryContext(ctx, query, args)
	if errors.Is(err, driver.ErrSkip) {
		// The text contains a '?' of its own (in a literal or comment), which
		// the driver's interpolation can't tell from a marker: let the server
		// parse it as a prepared statement instead.
		var stmt driver.Stmt
		stmt, rows, err = c.prepared(ctx, query, args)
		if stmt != nil {
			defer stmt.Close()
		}
	}
	if err != nil {
		return nil, c.fail(err)
	}
	return c.read(rows, maxBytes, abort)
}

func (c *Conn) prepared(ctx context.Context, query string, args []driver.NamedValue) (driver.Stmt, driver.Rows, error) {
	p, ok := c.dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, nil, errors.New("BUG: mysql driver conn is not a ConnPrepareContext")
	}
	stmt, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	sq, ok := stmt.(driver.StmtQueryContext)
	if !ok {
		return stmt, nil, errors.New("BUG: mysql driver stmt is not a StmtQueryContext")
	}
	rows, err := sq.QueryContext(ctx, args)
	return stmt, rows, err
}

// read converts rows (or the OK packet of a statement without a result set).
func (c *Conn) read(rows driver.Rows, maxBytes int, abort func()) (*engine.Result, error) {
	names := rows.Columns()
	if len(names) == 0 {
		if err := rows.Close(); err != nil {
			return nil, c.fail(err)
		}
		affected, id, _ := peekOK(c.dc)
		res := &engine.Result{RowsAffected: affected, Generated: []engine.Value{}}
		if id > 0 {
			res.Generated = append(res.Generated, engine.Long(id))
		}
		return res, nil
	}
	fields, ok := peekFields(rows)
	if !ok {
		fields = fallbackFields(rows)
	}
	res := &engine.Result{
		HasResultSet: true,
		Columns:      make([]engine.Column, len(fields)),
		Rows:         [][]engine.Value{},
		Decimal:      make([]bool, len(fields)),
	}
	for i := range fields {
		res.Columns[i] = column(&fields[i])
		res.Decimal[i] = fields[i].typ == typeDecimal || fields[i].typ == typeNewDecimal
	}
	dest := make([]driver.Value, len(fields))
	size := 0
	for {
		err := rows.Next(dest)
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = rows.Close()
			return nil, c.fail(err)
		}
		row := make([]engine.Value, len(fields))
		for i := range fields {
			v, n := value(&fields[i], dest[i])
			row[i] = v
			size += n
		}
		size += 8
		if maxBytes > 0 && size > maxBytes {
			// Draining the rest could take long; drop the connection instead
			// (the Data API also ends the transaction, spec §4.1).
			c.broken = true
			abort()
			_ = rows.Close()
			return nil, engine.ErrResultTooLarge
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Close(); err != nil {
		return nil, c.fail(err)
	}
	return res, nil
}

// watcher sends KILL QUERY when the caller's ctx ends during a statement.
type watcher struct {
	finished chan struct{} // closed when the statement returned
	done     chan struct{} // closed when the kill goroutine is over
	stopFn   func() bool
}

func (c *Conn) watch(ctx context.Context, abort func()) *watcher {
	w := &watcher{finished: make(chan struct{}), done: make(chan struct{})}
	w.stopFn = context.AfterFunc(ctx, func() {
		defer close(w.done)
		kctx, cancel := context.WithTimeout(context.Background(), killTimeout)
		defer cancel()
		if err := c.eng.kill(kctx, c.creds, c.id); err != nil {
			abort()
			return
		}
		t := time.NewTimer(killGrace)
		defer t.Stop()
		select {
		case <-w.finished:
		case <-t.C:
			abort()
		}
	})
	return w
}

// stop reports whether the kill ran, waiting for it to finish so a late
// KILL QUERY can never hit the connection's next statement.
func (w *watcher) stop() bool {
	close(w.finished)
	if w.stopFn() {
		return false
	}
	<-w.done
	return true
}

// fail classifies a driver error, marking the connection broken unless the
// server reported it (the connection then is still in sync).
func (c *Conn) fail(err error) error {
	if e, ok := asDBError(err); ok {
		if fatalCodes[e.Code] {
			c.broken = true
		}
		return e
	}
	if errors.Is(err, errPktTooLarge) {
		return &engine.DBError{Message: "Packet for query is too large.", SQLState: "S1000"}
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

// Dirty reports true until the engine tracks session state: every
// connection is treated as possibly carrying state from its last caller.
func (c *Conn) Dirty() bool { return true }

// Reset is not implemented yet; the caller closes a dirty connection.
func (c *Conn) Reset(context.Context) error { return engine.ErrResetUnsupported }
