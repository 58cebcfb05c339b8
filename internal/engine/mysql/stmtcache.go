package mysql

import (
	"errors"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// Server-side prepared statements, cached per connection: a statement
// without parameters that the connection runs a second time is prepared
// (COM_STMT_PREPARE) and from then on executed by id (COM_STMT_EXECUTE),
// so the server parses it once. Rows then come over the binary protocol;
// mysqlwire renders every value as the text protocol would, so results are
// the same either way (the golden test in stmtcache_test.go holds both
// protocols to one file).
//
// Statements with parameters keep the text protocol: a bound value is
// typed by the server differently from the literal written in its place,
// which would change the result's metadata.
//
// The cache is used only while the session is as Connect or Reset left it
// (a prepared statement keeps the schema and settings it was prepared
// under), and dropped by Reset (the server drops the statements with the
// session). A statement the server will not prepare (ER_UNSUPPORTED_PS
// among any other refusal) runs as text from then on. A cached statement
// the server asks to re-prepare (ER_NEED_REPREPARE, after a schema change)
// is dropped; outside a transaction the call is retried once as text,
// inside one the error is returned.

// erNeedReprepare is ER_NEED_REPREPARE: a cached statement's tables
// changed in a way the server would not re-prepare it for by itself.
const erNeedReprepare = 1615

// Cache bounds: statements prepared per connection (the server's
// max_prepared_stmt_count is shared by all connections) and statements
// remembered as seen once or refused.
const (
	maxCachedStmts = 64
	maxSeenStmts   = 256
)

type stmtCache struct {
	m    map[string]*mysqlwire.Stmt
	seen map[string]bool // true: the server would not prepare it
}

// preparableVerbs are the statements the cache prepares.
var preparableVerbs = map[string]bool{"SELECT": true, "WITH": true, "INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true, "VALUES": true}

// cacheable reports whether sql (scanned as sc, bound to no parameters)
// may go through the cache now.
func (c *Conn) cacheable(sql string, sc scan, nargs int) bool {
	return nargs == 0 && !sc.stateful && !c.state && !c.unsure && preparable(sql)
}

// preparable reports whether sql starts with one of preparableVerbs (not
// after a comment or a parenthesis).
func preparable(sql string) bool {
	i := 0
	for i < len(sql) && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r') {
		i++
	}
	j := i
	for j < len(sql) && (sql[j]|0x20 >= 'a' && sql[j]|0x20 <= 'z') {
		j++
	}
	if j-i > 7 {
		return false
	}
	var b [7]byte
	for k := i; k < j; k++ {
		b[k-i] = sql[k] &^ 0x20
	}
	return preparableVerbs[string(b[:j-i])]
}

// cached returns the prepared statement for sql, preparing it on its
// second use; nil means: run it as text. An error is a connection failure.
func (c *Conn) cached(sql string) (*mysqlwire.Stmt, error) {
	s := &c.stmts
	if st := s.m[sql]; st != nil {
		return st, nil
	}
	refused, seen := s.seen[sql]
	if refused || !seen {
		if !seen {
			if s.seen == nil || len(s.seen) >= maxSeenStmts {
				s.seen = make(map[string]bool)
			}
			s.seen[sql] = false
		}
		return nil, nil
	}
	st, err := c.cl.Prepare(sql)
	if err != nil {
		var se *mysqlwire.Error
		if errors.As(err, &se) {
			s.seen[sql] = true // ER_UNSUPPORTED_PS (1295), or any other refusal
			return nil, nil
		}
		return nil, c.fail(err)
	}
	if s.m == nil {
		s.m = make(map[string]*mysqlwire.Stmt)
	}
	if len(s.m) >= maxCachedStmts {
		c.closeStmts()
	}
	s.m[sql] = st
	delete(s.seen, sql)
	return st, nil
}

// closeStmts closes every cached statement on the server.
func (c *Conn) closeStmts() {
	for sql, st := range c.stmts.m {
		if err := c.cl.CloseStmt(st); err != nil {
			c.broken = true
		}
		delete(c.stmts.m, sql)
	}
}

// dropStmts forgets the cache after the server dropped the statements
// (a session reset).
func (c *Conn) dropStmts() {
	clear(c.stmts.m)
	clear(c.stmts.seen)
}

// execCached runs the cached statement st (sql's), or sql as text after a
// re-prepare request outside a transaction.
func (c *Conn) execCached(st *mysqlwire.Stmt, sql string, maxBytes int, abort func()) (*engine.Result, error) {
	rows, err := c.cl.Execute(st, nil)
	if err != nil {
		var se *mysqlwire.Error
		if !errors.As(err, &se) || se.Code != erNeedReprepare {
			return nil, c.fail(err)
		}
		delete(c.stmts.m, sql)
		if cerr := c.cl.CloseStmt(st); cerr != nil {
			return nil, c.fail(cerr)
		}
		if c.cl.Status()&mysqlwire.StatusInTrans != 0 {
			return nil, c.fail(err)
		}
		if rows, err = c.cl.Query(sql); err != nil {
			return nil, c.fail(err)
		}
	}
	return c.read(rows, maxBytes, abort)
}
