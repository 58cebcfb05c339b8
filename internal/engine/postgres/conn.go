package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Conn is one PostgreSQL backend connection. Like every engine.Conn it is
// used by one goroutine at a time.
type Conn struct {
	pg     *pgconn.PgConn
	broken bool
	// moved, when set, reports whether the cluster's writer is no longer
	// the server this connection reached.
	moved func() bool

	// Per-connection catalog caches (see describe.go).
	types map[uint32]typeInfo // user-defined type OIDs
	attrs map[attrKey]attrInfo

	// txnCause is the message of the error that aborted the open transaction,
	// reported by a later Commit like pgjdbc does.
	txnCause string
	// last remembers the table columns behind the latest result set, for
	// DescribeColumns.
	last lastResult

	// effect is the worst engine.Effect of the statements run since
	// Connect or the last Reset; params0 the reported parameters right
	// after Connect (session.go).
	effect  engine.Effect
	params0 [len(reported)]string
	// discardSeq: a Reset owes DISCARD SEQUENCES, sent before the next
	// statement that could read sequence state (Exec) or Begin.
	discardSeq bool

	stmts stmtCache  // prepared statements (stmtcache.go)
	intr  interrupts // Interrupt (interrupt.go)

	// sizeHint is the arena size and value count of the latest result:
	// the next one starts at that size instead of growing to it.
	sizeHint struct{ data, cells int }
}

type lastResult struct {
	res  *engine.Result
	refs []attrKey
}

var _ engine.Conn = (*Conn)(nil)

func newConn(pg *pgconn.PgConn) *Conn {
	c := &Conn{pg: pg, types: map[uint32]typeInfo{}, attrs: map[attrKey]attrInfo{},
		stmts: stmtCache{m: map[string]*pgconn.StatementDescription{}, seen: map[string]struct{}{}}}
	c.snapshot()
	return c
}

// rawResult is a statement's response before type mapping. The values are
// copied off the connection's buffer into one arena (engine.Arena) rather
// than one allocation per value, with each value's place in it, row by
// row. The arena is only written while the result is read; decoded strings
// then share its memory, and a lazy result hands it back for reuse when
// released (cells.Release).
type rawResult struct {
	fields []pgconn.FieldDescription // nil: the statement returned no result set
	nrows  int
	arena  *engine.Arena // the values (nil: no result set)
	tag    pgconn.CommandTag
}

// Exec runs one statement. ":name" placeholders become $n and are bound with
// explicit types (see bindParams); the statement always goes through an
// unnamed server-side prepared statement, so "$1" in the text is not a
// placeholder the caller can fill, as on AWS.
func (c *Conn) Exec(ctx context.Context, sql string, params []engine.Param, maxBytes int) (*engine.Result, error) {
	c.begin()
	defer c.end()
	if err := ctx.Err(); err != nil {
		return nil, c.execErr(ctx, err)
	}
	c.last = lastResult{}
	st, ordered, err := engine.Prepare(sql, engine.DialectPostgres, params)
	if err != nil {
		return nil, err
	}
	bp, err := bindParams(ordered)
	if err != nil {
		return nil, err
	}
	eff := engine.Inspect(st.SQL, engine.DialectPostgres).Effect
	// A discard Reset left pending must go before any statement that
	// could read sequence state: one naming currval or lastval, or one
	// that may run code sqlgate cannot see into.
	discardFirst := c.discardSeq && (eff >= engine.EffectSession || readsSequences(st.SQL))
	if eff > c.effect {
		c.effect = eff
	}
	raw, err := c.run(ctx, st.SQL, bp, maxBytes, discardFirst, eff)
	if eff >= engine.EffectSession || (err == nil && isDDL(raw.tag)) {
		c.stmts.forget(false) // may have dropped or reshaped what is cached
	}
	if err != nil {
		return nil, err
	}
	if isDDL(raw.tag) {
		c.resetCaches()
	}
	return c.build(ctx, raw)
}

// run sends one statement and reads its whole response, through the
// statement cache when eff allows (stmtcache.go). With
// discardFirst, the DISCARD SEQUENCES a Reset left pending goes first in
// the same round trip (a pipeline with a sync between them, so the
// statement runs outside the discard's implicit transaction).
func (c *Conn) run(ctx context.Context, sql string, bp boundParams, maxBytes int, discardFirst bool, eff engine.Effect) (rawResult, error) {
	if !discardFirst {
		if cacheable(eff) {
			if res, ok, err := c.runCached(ctx, sql, bp, maxBytes); ok {
				return res, err
			}
		}
		return c.read(ctx, c.pg.ExecParams(ctx, sql, bp.values, bp.oids, bp.formats, nil), maxBytes)
	}
	pl := c.pg.StartPipeline(ctx)
	rr, err := c.discardThen(pl, sql, bp)
	if err != nil {
		_ = pl.Close()
		return rawResult{}, c.execErr(ctx, err)
	}
	res, err := c.read(ctx, rr, maxBytes)
	if cerr := pl.Close(); cerr != nil && err == nil {
		return rawResult{}, c.execErr(ctx, cerr)
	}
	return res, err
}

// discardThen sends DISCARD SEQUENCES and sql on pl and returns sql's
// result reader once the discard has succeeded.
func (c *Conn) discardThen(pl *pgconn.Pipeline, sql string, bp boundParams) (*pgconn.ResultReader, error) {
	pl.SendQueryParams("DISCARD SEQUENCES", nil, nil, nil, nil)
	pl.SendPipelineSync()
	pl.SendQueryParams(sql, bp.values, bp.oids, bp.formats, nil)
	pl.SendPipelineSync()
	if err := pl.Flush(); err != nil {
		return nil, err
	}
	r, err := pl.GetResults()
	if err != nil {
		return nil, err
	}
	discard, ok := r.(*pgconn.ResultReader)
	if !ok {
		return nil, fmt.Errorf("discard sequences: unexpected %T", r)
	}
	if _, err := discard.Close(); err != nil {
		return nil, err
	}
	if r, err = pl.GetResults(); err != nil {
		return nil, err
	}
	if _, ok := r.(*pgconn.PipelineSync); !ok {
		return nil, fmt.Errorf("discard sequences: unexpected %T", r)
	}
	c.discardSeq = false
	if r, err = pl.GetResults(); err != nil {
		return nil, err
	}
	rr, ok := r.(*pgconn.ResultReader)
	if !ok {
		return nil, fmt.Errorf("statement: unexpected %T", r)
	}
	return rr, nil
}

// read reads a statement's whole response from rr.
func (c *Conn) read(ctx context.Context, rr *pgconn.ResultReader, maxBytes int) (rawResult, error) {
	var res rawResult
	if fds := rr.FieldDescriptions(); fds != nil {
		res.fields = slices.Clone(fds)
	}
	if res.fields != nil {
		res.arena = engine.GetArena(c.sizeHint.data, c.sizeHint.cells)
	}
	size := 0
	for rr.NextRow() {
		vals := rr.Values()
		res.nrows++
		size += 2
		a := res.arena
		for _, v := range vals {
			sp := engine.Span{Off: -1}
			if v != nil { // nil is NULL, apart from "" (empty)
				sp = engine.Span{Off: int32(len(a.Data)), End: int32(len(a.Data) + len(v))}
				a.Data = append(a.Data, v...)
			}
			a.Spans = append(a.Spans, sp)
			size += len(v) + 4
		}
		if (maxBytes > 0 && size > maxBytes) || len(a.Data) > engine.MaxArena {
			engine.PutArena(a)
			c.abort(rr)
			return rawResult{}, engine.ErrResultTooLarge
		}
	}
	tag, err := rr.Close()
	if err != nil {
		if res.arena != nil {
			engine.PutArena(res.arena)
		}
		return rawResult{}, c.execErr(ctx, err)
	}
	res.tag = tag
	if a := res.arena; a != nil {
		c.sizeHint.data, c.sizeHint.cells = len(a.Data), len(a.Spans)
	}
	return res, nil
}

// abort stops a statement whose result is too large: a CancelRequest ends it
// on the backend, then the rest of the response is drained so the connection
// stays usable (in a transaction, the cancel aborts it, like AWS terminating
// the transaction).
func (c *Conn) abort(rr *pgconn.ResultReader) {
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	cancelErr := c.pg.CancelRequest(ctx)
	_, err := rr.Close()
	if c.pg.IsClosed() {
		c.broken = true
		return
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c.noteTxnFailure(dbError(pgErr).Message)
	}
	if cancelErr == nil && (pgErr == nil || pgErr.Code != sqlstateQueryCanceled) {
		// The statement ended before the cancel landed; the signal may still
		// be on its way and could hit the next statement. Give it time to
		// arrive while the backend is idle (and ignores it), as pgx does.
		time.Sleep(100 * time.Millisecond)
	}
}

// execErr maps an error of a statement on c.
func (c *Conn) execErr(ctx context.Context, err error) error {
	if c.pg.IsClosed() {
		c.broken = true
	}
	var pgErr *pgconn.PgError
	isPg := errors.As(err, &pgErr)
	if isPg {
		c.noteTxnFailure(dbError(pgErr).Message)
	}
	if ctx.Err() != nil && (!isPg || pgErr.Code == sqlstateQueryCanceled) {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("exec: %w", engine.ErrTimeout)
		}
		return fmt.Errorf("exec: %w", ctx.Err())
	}
	if isPg && !c.broken {
		return dbError(pgErr)
	}
	if c.broken {
		// A FATAL error (e.g. 57P01, the session was terminated) closes
		// the connection: the backend went away, the statement is not at fault.
		return fmt.Errorf("exec: %w: %w", engine.ErrUnavailable, err)
	}
	return fmt.Errorf("exec: %w", err)
}

func (c *Conn) noteTxnFailure(msg string) {
	if c.pg.TxStatus() == 'E' && c.txnCause == "" {
		c.txnCause = msg
	}
}

// build maps a raw response to a Result.
func (c *Conn) build(ctx context.Context, raw rawResult) (*engine.Result, error) {
	var affected int64
	if t := raw.tag; t.Insert() || t.Update() || t.Delete() || strings.HasPrefix(t.String(), "MERGE") {
		affected = t.RowsAffected()
	}
	if raw.fields == nil {
		return &engine.Result{RowsAffected: affected, Generated: []engine.Value{}}, nil
	}
	infos, elems, err := c.typeInfos(ctx, raw.fields)
	if err != nil {
		return nil, err
	}
	res := &engine.Result{
		HasResultSet: true,
		RowsAffected: affected,
		Columns:      make([]engine.Column, len(raw.fields)),
		Decimal:      make([]bool, len(raw.fields)),
	}
	refs := make([]attrKey, len(raw.fields))
	for i, f := range raw.fields {
		ti := infos[i]
		if ti.codec == codecUnsupported {
			return nil, &engine.UnsupportedTypeError{TypeName: ti.unsupported}
		}
		res.Columns[i] = column(f.Name, f.DataTypeOID, f.TypeModifier, ti)
		res.Decimal[i] = ti.codec == codecNumeric
		refs[i] = attrKey{table: f.TableOID, attnum: f.TableAttributeNumber}
	}
	n := len(raw.fields)
	if len(raw.arena.Spans) != raw.nrows*n {
		return nil, fmt.Errorf("result rows do not match its %d columns", n)
	}
	cs := cells{text: raw.arena.Text(), cells: raw.arena.Spans, nrows: raw.nrows, infos: infos, elems: elems, cols: res.Columns,
		shortest: c.shortestFloats()}
	if engine.LazyDecode(ctx) {
		h := cs.escape()
		h.arena = raw.arena // handed back by Release
		res.Cells = h
	} else if err := cs.fill(res); err != nil {
		// The eager Rows share the arena's memory: it is not reused.
		return nil, err
	}
	c.last = lastResult{res: res, refs: refs}
	return res, nil
}

// shortestFloats reports whether the server prints float8 values with
// their shortest round-trip digits when extra_float_digits > 0, as
// PostgreSQL does since version 12 (older ones print 17 digits).
func (c *Conn) shortestFloats() bool {
	v := c.pg.ParameterStatus("server_version")
	major := 0
	for i := 0; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		major = major*10 + int(v[i]-'0')
	}
	return major >= 12
}

// isDDL reports whether a command tag says the catalog may have changed.
func isDDL(tag pgconn.CommandTag) bool {
	s := tag.String()
	return strings.HasPrefix(s, "CREATE") || strings.HasPrefix(s, "ALTER") || strings.HasPrefix(s, "DROP")
}

// Begin starts a transaction.
func (c *Conn) Begin(ctx context.Context) error {
	c.txnCause = ""
	if c.discardSeq {
		if _, err := c.simple(ctx, "DISCARD SEQUENCES"); err != nil {
			return err
		}
		c.discardSeq = false
	}
	_, err := c.simple(ctx, "BEGIN")
	return err
}

// Commit commits the open transaction. When a statement had failed in it,
// PostgreSQL answers COMMIT with ROLLBACK; Commit then returns a DBError like
// pgjdbc's, because Data API clients expect commit to fail.
func (c *Conn) Commit(ctx context.Context) error {
	cause := c.txnCause
	tag, err := c.simple(ctx, "COMMIT")
	c.txnCause = ""
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		if cause == "" {
			cause = "ERROR: current transaction is aborted, commands ignored until end of transaction block"
		}
		return &engine.DBError{
			Message:  "The database returned ROLLBACK, so the transaction cannot be committed. Transaction failure cause is <<" + cause + ">>",
			SQLState: sqlstateInFailedSQLTxn,
		}
	}
	return nil
}

// Rollback rolls back the open transaction.
func (c *Conn) Rollback(ctx context.Context) error {
	c.txnCause = ""
	_, err := c.simple(ctx, "ROLLBACK")
	return err
}

func (c *Conn) simple(ctx context.Context, sql string) (pgconn.CommandTag, error) {
	c.last = lastResult{}
	tag, err := c.pg.ExecParams(ctx, sql, nil, nil, nil, nil).Close()
	if err != nil {
		return tag, c.execErr(ctx, err)
	}
	return tag, nil
}

// ID returns the backend process id (pg_backend_pid()).
func (c *Conn) ID() int64 { return int64(c.pg.PID()) }

// Ping checks the connection with an empty statement.
func (c *Conn) Ping(ctx context.Context) error {
	if c.moved != nil && c.moved() {
		return fmt.Errorf("ping: the cluster's writer moved: %w", engine.ErrUnavailable)
	}
	if err := c.pg.Ping(ctx); err != nil {
		return c.execErr(ctx, err)
	}
	return nil
}

// Close closes the connection, telling the server when it still can and
// waiting for its backend to exit (Terminate).
func (c *Conn) Close() error {
	h, err := c.pg.Hijack()
	if err != nil { // busy or already closed: pgconn closes it itself
		ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
		defer cancel()
		return c.pg.Close(ctx)
	}
	return Terminate(h.Conn, ExitWait)
}

// Broken reports whether the connection is unusable (lost socket, or a
// cancelled statement that did not stop within the grace period).
// A connection to a cluster's former writer counts as broken, so the pool
// closes it instead of reusing it.
func (c *Conn) Broken() bool {
	return c.broken || c.pg.IsClosed() || (c.moved != nil && c.moved())
}

// readsSequences reports whether sql names currval or lastval (anywhere:
// erring towards yes).
func readsSequences(sql string) bool {
	for i := 0; i+7 <= len(sql); i++ {
		if c := sql[i] | 0x20; c != 'c' && c != 'l' {
			continue
		}
		w := sql[i : i+7]
		if strings.EqualFold(w, "currval") || strings.EqualFold(w, "lastval") {
			return true
		}
	}
	return false
}
