package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	lib "modernc.org/sqlite/lib"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Conn is one SQLite connection, held from the Engine's *sql.DB for the
// Conn's lifetime so that transactions stay on it.
type Conn struct {
	c      *sql.Conn
	id     int64
	broken bool

	// state is what user statements changed since Connect or the last
	// Reset (set by the authorizer); inTx is an open Begin; own is true
	// while the engine runs its own statements.
	state sessionState
	inTx  bool
	own   bool
}

// sessionState is a set of the kinds of state a session can carry.
type sessionState uint8

const (
	statePragma sessionState = 1 << iota // a pragma was set
	stateTemp                            // temporary objects were created or dropped
	stateTx                              // user SQL controlled a transaction
)

var _ engine.Conn = (*Conn)(nil)

// Exec runs one statement with ":name" placeholders bound as ? markers.
// Type hints are ignored: SQLite stores every hinted string as TEXT.
func (c *Conn) Exec(ctx context.Context, sqlText string, params []engine.Param, maxBytes int) (*engine.Result, error) {
	st, ordered, err := engine.Prepare(sqlText, engine.DialectSQLite, params)
	if err != nil {
		return nil, err
	}
	args, err := bindArgs(ordered)
	if err != nil {
		return nil, err
	}
	// Query runs every statement; one without result columns is complete
	// once its (empty) rows are closed.
	rows, err := c.c.QueryContext(ctx, st.SQL, args...)
	if err != nil {
		return nil, c.execErr(ctx, err)
	}
	res, err := c.read(rows, maxBytes, engine.LazyDecode(ctx))
	if err != nil {
		return nil, c.execErr(ctx, err)
	}
	if kw := firstKeyword(st.SQL); kw == "INSERT" || kw == "REPLACE" || kw == "UPDATE" || kw == "DELETE" || (kw == "WITH" && !res.HasResultSet) {
		if err := c.changes(ctx, res, kw == "INSERT" || kw == "REPLACE", sqlText); err != nil {
			return nil, c.execErr(ctx, err)
		}
	}
	return res, nil
}

// read reads a statement's rows into a Result: decoded into Rows, or kept
// as scanned for the caller to decode (lazy: cells, in types.go).
func (c *Conn) read(rows *sql.Rows, maxBytes int, lazy bool) (*engine.Result, error) {
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return &engine.Result{Generated: []engine.Value{}}, rows.Close()
	}
	res := &engine.Result{
		HasResultSet: true,
		Columns:      make([]engine.Column, len(types)),
		Decimal:      make([]bool, len(types)),
		Rows:         [][]engine.Value{},
	}
	classes := make([]class, len(types))
	for i, ct := range types {
		res.Columns[i] = column(ct.Name(), ct.DatabaseTypeName())
		classes[i] = classOf(res.Columns[i].TypeName)
		res.Decimal[i] = classes[i] == classDecimal
	}
	w := len(types)
	ptrs := make([]any, w)
	var cs *cells
	var vals []any // the row being scanned
	if lazy {
		cs = &cells{classes: classes, dateOnly: make([]bool, w)}
		res.Rows = nil
	} else {
		vals = make([]any, w)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
	}
	size := 0
	for rows.Next() {
		if lazy {
			// Scan straight into the next row of the slab.
			cs.vals = append(cs.vals, make([]any, w)...)
			vals = cs.vals[len(cs.vals)-w:]
			for i := range vals {
				ptrs[i] = &vals[i]
			}
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var row []engine.Value
		if !lazy {
			row = make([]engine.Value, w)
		}
		size += 2
		for i, v := range vals {
			col := &res.Columns[i]
			dateOnly := col.TypeName == "DATE"
			if lazy {
				size += 4 + textLen(v, classes[i], dateOnly) + 8
			} else {
				row[i] = value(v, classes[i], dateOnly)
				size += 4 + len(row[i].String) + len(row[i].Blob) + 8
			}
			if col.TypeName == "" && v != nil {
				col.TypeName = runtimeType(v)
				*col = column(col.Name, col.TypeName)
			}
		}
		if lazy {
			cs.nrows++
		} else {
			res.Rows = append(res.Rows, row)
		}
		if maxBytes > 0 && size > maxBytes {
			return nil, engine.ErrResultTooLarge
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if lazy {
		for i := range cs.dateOnly {
			cs.dateOnly[i] = res.Columns[i].TypeName == "DATE"
		}
		res.Cells = cs
	}
	return res, rows.Close()
}

// changes fills the row count, and for an INSERT into a table whose rowid
// has an INTEGER PRIMARY KEY alias (SQLite's AUTO_INCREMENT) the new rowid
// as the generated key, like MySQL's LAST_INSERT_ID. Tables without such a
// column have no generated key, as on MySQL (seed 000: "generatedFields": []).
func (c *Conn) changes(ctx context.Context, res *engine.Result, insert bool, sqlText string) error {
	c.own = true
	defer func() { c.own = false }()
	var n, id int64
	if err := c.c.QueryRowContext(ctx, "SELECT changes(), last_insert_rowid()").Scan(&n, &id); err != nil {
		return err
	}
	res.RowsAffected = n
	if !insert || n == 0 || id <= 0 || res.HasResultSet {
		return nil
	}
	tbl := insertTable(sqlText)
	if tbl == "" {
		return nil
	}
	var keys int
	err := c.c.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE pk > 0 AND upper(type) = 'INTEGER' AND (SELECT COUNT(*) FROM pragma_table_info(?) WHERE pk > 0) = 1", tbl, tbl).Scan(&keys)
	if err == nil && keys == 1 {
		res.Generated = []engine.Value{engine.Long(id)}
	}
	return nil
}

// insertTable returns the (unquoted) table name of "INSERT [OR x] INTO t",
// or "" when it cannot tell (schema-qualified names included).
func insertTable(s string) string {
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i++ {
		if strings.EqualFold(f[i], "INTO") {
			name := f[i+1]
			if j := strings.IndexAny(name, "(;"); j >= 0 {
				name = name[:j]
			}
			name = strings.Trim(name, "\"`[]")
			if name == "" || strings.Contains(name, ".") {
				return ""
			}
			return name
		}
	}
	return ""
}

// firstKeyword returns the upper-cased first word of a statement, skipping
// whitespace, comments and parentheses.
func firstKeyword(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n(")
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
				continue
			}
			return ""
		}
		end := strings.IndexFunc(s, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
		})
		if end < 0 {
			end = len(s)
		}
		return strings.ToUpper(s[:end])
	}
}

// bindArgs converts parameters to database/sql arguments.
func bindArgs(params []engine.Param) ([]any, error) {
	args := make([]any, len(params))
	for i, p := range params {
		switch v := p.Value; v.Kind {
		case engine.KindNull:
			args[i] = nil
		case engine.KindBool:
			args[i] = v.Bool
		case engine.KindLong:
			args[i] = v.Long
		case engine.KindDouble:
			args[i] = v.Double
		case engine.KindString:
			args[i] = v.String
		case engine.KindBlob:
			if v.Blob == nil {
				args[i] = []byte{}
			} else {
				args[i] = v.Blob
			}
		case engine.KindArray:
			return nil, &engine.ParamError{Msg: "Array parameters are not supported.", Validation: true}
		default:
			return nil, &engine.ParamError{Msg: "Unsupported value for parameter " + p.Name + ".", Validation: true}
		}
	}
	return args, nil
}

// execErr maps an error of a statement on c.
func (c *Conn) execErr(ctx context.Context, err error) error {
	if errors.Is(err, engine.ErrResultTooLarge) {
		return err
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("exec: %w", engine.ErrTimeout)
		}
		return fmt.Errorf("exec: %w", ctx.Err())
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return dbError(se)
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		c.broken = true
		return fmt.Errorf("exec: %w: %w", engine.ErrUnavailable, err)
	}
	if unboundParameter(err) {
		return &engine.DBError{Message: err.Error(), SQLState: "HY000", Code: lib.SQLITE_RANGE}
	}
	return fmt.Errorf("exec: %w", err)
}

// unboundParameter reports the driver's error for a statement parameter
// the request did not supply (SQLite also reads ?NNN, :name, @name, $name
// and #name as parameters). The driver returns it untyped, so its text is
// all there is to go by; the statement failed, nothing is broken.
func unboundParameter(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "missing named argument") || strings.HasPrefix(msg, "missing argument with index")
}

// Begin starts a write transaction at once (BEGIN IMMEDIATE). A deferred
// transaction that reads and then writes can fail with SQLITE_BUSY at the
// write, without waiting, when another connection wrote in between; taking
// the write lock up front lets busy_timeout queue concurrent transactions.
func (c *Conn) Begin(ctx context.Context) error {
	err := c.simple(ctx, "BEGIN IMMEDIATE")
	c.inTx = err == nil
	return err
}

// Commit commits the open transaction.
func (c *Conn) Commit(ctx context.Context) error {
	err := c.simple(ctx, "COMMIT")
	if err == nil {
		c.inTx = false
	}
	return err
}

// Rollback rolls back the open transaction.
func (c *Conn) Rollback(ctx context.Context) error {
	err := c.simple(ctx, "ROLLBACK")
	if err == nil {
		c.inTx = false
	}
	return err
}

func (c *Conn) simple(ctx context.Context, stmt string) error {
	c.own = true
	defer func() { c.own = false }()
	if _, err := c.c.ExecContext(ctx, stmt); err != nil {
		return c.execErr(ctx, err)
	}
	return nil
}

// ID is a number unique among the Engine's connections (SQLite has no
// connection ids).
func (c *Conn) ID() int64 { return c.id }

// Ping checks the connection.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.c.PingContext(ctx); err != nil {
		return c.execErr(ctx, err)
	}
	return nil
}

// Close releases the connection. A clean one goes back to the shared
// *sql.DB's idle list (after a rollback of anything left open); one with
// session state is closed for good, so no later Connect gets its pragmas
// or temporary tables.
func (c *Conn) Close() error {
	if c.state != 0 || c.broken {
		_ = c.c.Raw(func(any) error { return driver.ErrBadConn }) // database/sql closes a bad conn
		if err := c.c.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
			return err
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.simple(ctx, "ROLLBACK") // "no transaction is active" is fine
	return c.c.Close()
}

// Broken reports whether the connection failed.
func (c *Conn) Broken() bool { return c.broken }

// Dirty reports whether user SQL set a pragma, touched temporary objects
// or controlled a transaction, or a transaction is open.
func (c *Conn) Dirty() bool { return c.state != 0 || c.inTx }

// Reset ends an open transaction. Pragmas and temporary objects are not
// undone here: such a connection is closed (Close discards it from the
// shared *sql.DB) and a new one is cheap.
func (c *Conn) Reset(ctx context.Context) error {
	if c.state&(statePragma|stateTemp) != 0 {
		return engine.ErrResetUnsupported
	}
	if c.inTx || c.state&stateTx != 0 {
		if err := c.Rollback(ctx); err != nil && (c.inTx || c.broken) {
			return fmt.Errorf("reset: %w", err)
		}
	}
	c.state, c.inTx = 0, false
	return nil
}
