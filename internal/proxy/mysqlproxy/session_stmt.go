package mysqlproxy

// Prepared statement commands of a session; see stmt.go for the mapping.

import (
	"context"
	"errors"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

func (c *session) stmtKey(sql string) string {
	return c.schema + "\x00" + c.vars["sql_mode"] + "\x00" + sql
}

// stmtPrepare answers COM_STMT_PREPARE with a client statement id, from
// the borrowed backend's cache or a fresh prepare.
func (c *session) stmtPrepare(ctx context.Context, p []byte) error {
	sql := string(p[1:])
	c.curSQL = p[1:]
	if err := c.borrow(ctx); err != nil {
		return c.sendErr(borrowError(err))
	}
	be := c.be.Conn
	sc := scanSQL(p[1:])
	cs := &clientStmt{key: c.stmtKey(sql), sql: sql, text: []byte(sql), usesLastInsertID: sc.usesLastInsertID,
		routine: sc.routine, sessionCmd: sc.sessionCmd, pipe: sc.pipeable()}
	st, err := be.prepare(cs.key, sql)
	if err != nil {
		return c.finish(be, relayResult{}, err)
	}
	cs.params, cs.columns = st.params, st.columns
	c.nextStmt++
	id := c.nextStmt
	if c.stmts == nil { // made on first use: an idle client keeps no empty maps
		c.stmts = map[uint32]*clientStmt{}
	}
	c.stmts[id] = cs
	if err := c.writePrepareOK(id, st); err != nil {
		return err
	}
	return c.finish(be, relayResult{}, nil)
}

func (c *session) writePrepareOK(id uint32, st *backendStmt) error {
	if err := c.out(prepareOK(id, st)); err != nil {
		return err
	}
	for i, m := range st.meta {
		if err := c.outPacket(m); err != nil {
			return err
		}
		last := i == int(st.params)-1 || i == len(st.meta)-1
		if last && c.caps&mysqlwire.CapDeprecateEOF == 0 {
			if err := c.out(mysqlwire.EOFPacket(0, metaStatus(c.status))); err != nil {
				return err
			}
		}
	}
	if err := c.cl.Flush(); err != nil {
		return &clientGoneError{err}
	}
	return nil
}

// backendStmt returns the backend's statement for client statement id,
// preparing it there first when needed.
func (c *session) backendStmt(ctx context.Context, id uint32, cmd string) (*clientStmt, *backendStmt, error) {
	cs := c.stmts[id]
	if cs == nil {
		return nil, nil, newError(erUnknownStmt, "HY000", "Unknown prepared statement handler (%d) given to %s", id, cmd)
	}
	if err := c.borrow(ctx); err != nil {
		if errors.Is(err, errPiped) {
			return nil, nil, err
		}
		return nil, nil, borrowError(err)
	}
	st, err := c.be.Conn.prepare(cs.key, cs.sql)
	if err != nil {
		return nil, nil, err
	}
	if st.params != cs.params {
		return nil, nil, newError(erNeedReprepare, "HY000", "Prepared statement needs to be re-prepared")
	}
	return cs, st, nil
}

// stmtError reports a failure to resolve a statement: protocol errors go
// to the client, backend failures end like any other command.
func (c *session) stmtError(err error) error {
	if c.be != nil {
		return c.finish(c.be.Conn, relayResult{}, err)
	}
	var me *Error
	if errors.As(err, &me) {
		return c.sendErr(me)
	}
	return err
}

func (c *session) stmtExecute(ctx context.Context, p []byte) error {
	c.ps.Counters.Queries++
	id, _ := stmtID(p)
	if flags := executeFlags(p); flags&0x07 != 0 {
		if err := c.borrow(ctx); err != nil {
			return c.sendErr(borrowError(err))
		}
		c.pin("server-side cursor")
	}
	if cs := c.stmts[id]; cs != nil {
		c.markPipe(p, cs.pipe && executeFlags(p)&0x07 == 0, cs)
	}
	cs, st, err := c.backendStmt(ctx, id, "mysqld_stmt_execute")
	if errors.Is(err, errPiped) {
		return c.pipedDone()
	}
	if err != nil {
		return c.stmtError(err)
	}
	c.curSQL = cs.text
	c.explain = cs.sessionCmd && !cs.routine
	if cs.routine && !c.pinned {
		c.be.Conn.tainted = true
	}
	if cs.usesLastInsertID {
		if err := c.syncLastInsertID(); err != nil {
			return c.stmtError(err)
		}
	}
	out, err := rewriteExecute(p, st.id, cs, &c.scratch)
	if err != nil {
		return c.stmtError(newError(erUnknownCommand, "08S01", "Malformed COM_STMT_EXECUTE"))
	}
	delete(c.longData, id)
	return c.exchangeUnit(out)
}

// stmtLongData forwards COM_STMT_SEND_LONG_DATA (no response) and holds
// the backend until the statement is executed or reset.
func (c *session) stmtLongData(ctx context.Context, p []byte) error {
	id, ok := stmtID(p)
	if !ok {
		return nil
	}
	_, st, err := c.backendStmt(ctx, id, "mysqld_stmt_send_long_data")
	if err != nil {
		if c.be != nil {
			c.maybeRelease()
		}
		return nil // no response to this command, errors surface at execute
	}
	if c.longData == nil {
		c.longData = map[uint32]bool{}
	}
	c.longData[id] = true
	be := c.be.Conn
	if err := be.pc.Command(withStmtID(p, st.id)); err != nil {
		be.fail(err)
	}
	return nil
}

// stmtClose forgets a client statement. The backend keeps its copy for
// other clients, unless long data is pending on it.
func (c *session) stmtClose(p []byte) error {
	id, ok := stmtID(p)
	if !ok {
		return nil
	}
	if c.longData[id] && c.be != nil {
		cs := c.stmts[id]
		if st := c.be.Conn.stmts.get(cs.key); st != nil {
			_ = c.be.Conn.simple(withStmtID([]byte{mysqlwire.ComStmtReset, 0, 0, 0, 0}, st.id))
		}
		delete(c.longData, id)
		c.maybeRelease()
	}
	delete(c.stmts, id)
	return nil
}

// stmtReset clears long data; with none pending there is nothing on any
// backend to reset.
func (c *session) stmtReset(ctx context.Context, p []byte) error {
	id, _ := stmtID(p)
	if c.stmts[id] == nil {
		return c.sendErr(newError(erUnknownStmt, "HY000", "Unknown prepared statement handler (%d) given to mysqld_stmt_reset", id))
	}
	if !c.longData[id] || c.be == nil {
		return c.writeOK(mysqlwire.OK{Status: metaStatus(c.status)})
	}
	_, st, err := c.backendStmt(ctx, id, "mysqld_stmt_reset")
	if err != nil {
		return c.stmtError(err)
	}
	delete(c.longData, id)
	return c.exchange(withStmtID(p, st.id), respResult)
}

// stmtFetch reads rows of an open cursor (the session is pinned).
func (c *session) stmtFetch(ctx context.Context, p []byte) error {
	id, _ := stmtID(p)
	if c.be == nil || c.stmts[id] == nil {
		return c.sendErr(newError(erUnknownStmt, "HY000", "Unknown prepared statement handler (%d) given to mysqld_stmt_fetch", id))
	}
	_, st, err := c.backendStmt(ctx, id, "mysqld_stmt_fetch")
	if err != nil {
		return c.stmtError(err)
	}
	return c.exchange(withStmtID(p, st.id), respRows)
}
