package mysqlproxy

// Returning a backend session to a fresh state: COM_RESET_CONNECTION, or
// COM_CHANGE_USER when the current database must go too (MariaDB keeps
// the schema across COM_RESET_CONNECTION, and no statement un-selects
// one). The commands that restore the proxy's own settings (session
// tracking, init_query, multi-statements off) are pipelined behind the
// reset: one round trip, and every reply is read before the connection is
// used or pooled again.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_reset_connection.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_change_user.html

import (
	"fmt"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"

	"github.com/sqlgate/sqlgate/internal/proxy"
)

// reset returns the session to a fresh state with COM_RESET_CONNECTION:
// variables, user variables, temporary tables, prepared statements, locks
// and any transaction are gone. It restores the default schema (when the
// connection has one) and re-enables session tracking. Any failure marks
// the connection broken.
func (b *backendConn) reset(initQuery string) error {
	cmds := [][]byte{mysqlwire.ResetCommand()}
	restoreDB := b.defaultSchema != "" && b.schema != b.defaultSchema
	if restoreDB {
		cmds = append(cmds, mysqlwire.InitDBCommand(b.defaultSchema))
	}
	if err := b.pipeline(cmds, initQuery); err != nil {
		return err
	}
	if restoreDB {
		b.schema = b.defaultSchema
	}
	return nil
}

// changeUser logs the session in again as login with no default database
// (COM_CHANGE_USER): a fresh session like reset, and the only way to leave
// a backend with no current database once one was selected.
func (b *backendConn) changeUser(login proxy.Login, initQuery string) error {
	b.pending = true
	if err := b.cl.ChangeUser(login.User, login.Password, ""); err != nil {
		return b.fail(fmt.Errorf("change user: %w", err))
	}
	b.pending = false
	b.schema = ""
	return b.pipeline(nil, initQuery)
}

// pipeline sends cmds, then the proxy's session setup, in one write, and
// reads every reply. The session is then fresh: the state the proxy tracks
// for it is cleared. Any failure marks the connection broken.
func (b *backendConn) pipeline(cmds [][]byte, initQuery string) error {
	cmds = append(cmds, mysqlwire.QueryCommand(trackSetup))
	if initQuery != "" {
		cmds = append(cmds, mysqlwire.QueryCommand(initQuery))
	}
	// Multi-statements off: the state new connections start in.
	cmds = append(cmds, mysqlwire.SetOptionCommand(1))
	b.pending = true
	err := b.cl.Pipeline(cmds...)
	b.status = b.cl.Status()
	if err != nil {
		return b.fail(err)
	}
	b.pending = false
	b.stmts.clear()
	b.vars, b.lastInsertID, b.multi = vars{}, 0, 0
	b.dirty, b.tainted, b.owner = false, false, 0
	return nil
}
