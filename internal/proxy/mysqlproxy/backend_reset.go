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
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/proxy"
)

// reset returns the session to a fresh state with COM_RESET_CONNECTION:
// variables, user variables, temporary tables, prepared statements, locks
// and any transaction are gone. It restores the default schema (when the
// connection has one) and re-enables session tracking. Any failure marks
// the connection broken.
func (b *backendConn) reset(initQuery string) error {
	cmds := [][]byte{{comResetConnection}}
	restoreDB := b.defaultSchema != "" && b.schema != b.defaultSchema
	if restoreDB {
		cmds = append(cmds, append([]byte{comInitDB}, b.defaultSchema...))
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
	auth, err := authData(pluginNative, b.scrambleSeen, login.Password, b.tls)
	if err != nil {
		return b.fail(err)
	}
	p := append([]byte{comChangeUser}, login.User...)
	p = append(p, 0, byte(len(auth)))
	p = append(p, auth...)
	p = append(p, 0) // no database
	p = binary.LittleEndian.AppendUint16(p, uint16(defaultCharset))
	p = append(p, pluginNative...)
	p = append(p, 0, 0) // and no connection attributes
	b.pending = true
	if err := b.pc.command(p); err != nil {
		return b.fail(err)
	}
	if err := b.authLoop(pluginNative, b.scrambleSeen, login.Password); err != nil {
		return b.fail(fmt.Errorf("change user: %w", err))
	}
	b.pending = false
	b.schema = ""
	return b.pipeline(nil, initQuery)
}

// pipeline sends cmds (each answered by one OK or ERR), then the proxy's
// session setup, in one write, and reads every reply. The session is then
// fresh: the state the proxy tracks for it is cleared.
func (b *backendConn) pipeline(cmds [][]byte, initQuery string) error {
	b.pending = true
	err := b.runPipeline(cmds, initQuery)
	b.pending = false
	return err
}

func (b *backendConn) runPipeline(cmds [][]byte, initQuery string) error {
	queries := []string{trackSetup}
	if initQuery != "" {
		queries = append(queries, initQuery)
	}
	for _, c := range cmds {
		if err := b.queue(c); err != nil {
			return err
		}
	}
	for _, q := range queries {
		if err := b.queue(append([]byte{comQuery}, q...)); err != nil {
			return err
		}
	}
	// MYSQL_OPTION_MULTI_STATEMENTS_OFF: the state new connections start in.
	if err := b.queue([]byte{comSetOption, 1, 0}); err != nil {
		return err
	}
	if err := b.pc.flush(); err != nil {
		return b.fail(err)
	}
	var errs []error
	for range cmds {
		errs = append(errs, b.readSimple())
	}
	for _, q := range queries {
		if err := b.readResult(nil, nil); err != nil {
			errs = append(errs, fmt.Errorf("%.40s: %w", q, err))
		}
	}
	errs = append(errs, b.readSimple())
	if err := errors.Join(errs...); err != nil {
		return b.fail(err)
	}
	b.stmts.clear()
	b.vars, b.lastInsertID, b.multi = vars{}, 0, 0
	b.dirty, b.tainted, b.owner = false, false, 0
	return nil
}

// queue buffers one command (sequence id 0) without flushing.
func (b *backendConn) queue(cmd []byte) error {
	b.pc.seq = 0
	if err := b.pc.writePacket(cmd); err != nil {
		return b.fail(err)
	}
	return nil
}
