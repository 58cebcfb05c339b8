package mysqlproxy

// Session commands the proxy answers itself: KILL, COM_CHANGE_USER,
// COM_RESET_CONNECTION and COM_SET_OPTION.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_change_user.html

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// kill runs KILL [QUERY] <id> where id is a proxy connection id: the
// target's running statement is killed on its backend thread, and for
// KILL CONNECTION the client connection is closed as well.
func (c *session) kill(ctx context.Context, k killStmt) error {
	t := c.srv.session(k.id)
	if t == nil {
		return c.sendErr(newError(erNoSuchThread, "HY000", "Unknown thread id: %d", k.id))
	}
	if t.login.User != c.login.User {
		return c.sendErr(newError(erKillDenied, "HY000", "You are not owner of thread %d", k.id))
	}
	if t == c {
		if k.queryOnly {
			return c.writeOK(mysqlwire.OK{Status: metaStatus(c.status)})
		}
		_ = c.sendErr(newError(1317, "70100", "Query execution was interrupted"))
		return errors.New("client killed its own connection")
	}
	if err := t.killQuery(ctx); err != nil {
		return c.sendErr(&Error{Code: crConnectionRefused, State: "HY000", Msg: "Could not reach the database to kill the query", Err: err})
	}
	if !k.queryOnly {
		t.abortBorrow()
		t.ps.Close() // wakes it if parked
	}
	return c.writeOK(mysqlwire.OK{Status: metaStatus(c.status)})
}

// PeekClient waits for the client's next byte (proxy.Session.WatchClient).
func (c *session) PeekClient() error {
	_, err := c.cl.Peek(1)
	return err
}

// ClientGone kills the running statement of a client that left while it
// ran.
func (c *session) ClientGone() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := c.killQuery(ctx); err != nil {
		c.ps.Log().Warn("kill query of a departed client", "err", err)
	}
}

// killQuery interrupts the statement the session is running, if any, with
// KILL QUERY on a separate connection. Holding mu keeps the backend from
// being released (and reused by another client) until the KILL is done,
// so it can never hit someone else's statement.
func (c *session) killQuery(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running == nil {
		return nil
	}
	tid, addr := c.running.threadID, c.running.addr // the running statement's server
	admin, err := c.srv.dialer.open(ctx, c.login, addr)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.exec(fmt.Sprintf("KILL QUERY %d", tid))
	return err
}

// changeUser re-authenticates the client and gives it a fresh session.
// A failed change ends the connection, as mysqld does.
func (c *session) changeUser(ctx context.Context, p []byte) (quit bool, err error) {
	user, plugin, auth, db, charset, err := parseChangeUser(p, c.caps)
	if err != nil {
		return true, c.sendErr(newError(erHandshake, "08S01", "Bad handshake"))
	}
	c.endSession()
	if charset != 0 {
		c.charset = charset
	}
	login, err := c.authenticate(ctx, user, plugin, auth)
	if err != nil {
		_ = c.sendErr(accessDenied(user, c.remoteHost(), len(auth) > 0))
		return true, fmt.Errorf("change user to %q: %w", user, err)
	}
	c.user, c.login = user, c.srv.pool.Canonical(login)
	c.ps.Identify(user, db)
	c.schema = db
	if c.schema == "" {
		c.schema = login.Database
	}
	return false, c.writeOK(mysqlwire.OK{Status: mysqlwire.StatusAutocommit})
}

func parseChangeUser(p []byte, caps uint32) (user, plugin string, auth []byte, db string, charset byte, err error) {
	u, rest, ok := mysqlwire.ReadNulString(p[1:])
	if !ok {
		return "", "", nil, "", 0, mysqlwire.ErrMalformed
	}
	if caps&mysqlwire.CapSecureConn != 0 {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return "", "", nil, "", 0, mysqlwire.ErrMalformed
		}
		auth, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	} else if auth, rest, ok = mysqlwire.ReadNulString(rest); !ok {
		return "", "", nil, "", 0, mysqlwire.ErrMalformed
	}
	auth = append([]byte(nil), auth...)
	d, rest, ok := mysqlwire.ReadNulString(rest)
	if !ok {
		d, rest = rest, nil
	}
	if len(rest) >= 2 {
		charset = byte(binary.LittleEndian.Uint16(rest))
		rest = rest[2:]
	}
	if caps&mysqlwire.CapPluginAuth != 0 && len(rest) > 0 {
		name, _, ok := mysqlwire.ReadNulString(rest)
		if !ok {
			name = rest
		}
		plugin = string(name)
	}
	return string(u), plugin, auth, string(d), charset, nil
}

// resetConnection is COM_RESET_CONNECTION: the client's session state
// returns to that of a new connection; the schema stays (MariaDB).
func (c *session) resetConnection() error {
	schema := c.schema
	c.endSession()
	c.schema = schema
	return c.writeOK(mysqlwire.OK{Status: mysqlwire.StatusAutocommit})
}

// endSession rolls back and returns a held backend, resetting it, and
// forgets all client session state. No backend is the session's last one
// any more: an idle one it had, holding state a routine set unflagged, is
// reset when it borrows that one again (handOver).
func (c *session) endSession() {
	if c.be != nil {
		be := c.be.Conn
		be.dirty = true
		c.close()
	}
	c.lastBackend = 0
	c.vars, c.varsReady, c.lastInsertID, c.holdTx = nil, false, 0, false
	c.stmts, c.longData = nil, nil
	c.pinned, c.status = false, mysqlwire.StatusAutocommit
}

// setOption is COM_SET_OPTION: multi-statements on or off, applied to
// whichever backend runs the next query.
func (c *session) setOption(p []byte) error {
	if len(p) < 3 {
		return c.sendErr(newError(erUnknownCommand, "08S01", "Malformed COM_SET_OPTION"))
	}
	switch binary.LittleEndian.Uint16(p[1:]) {
	case 0:
		c.multi = true
	case 1:
		c.multi = false
	default:
		return c.sendErr(newError(erUnknownCommand, "08S01", "Unknown command"))
	}
	if c.caps&mysqlwire.CapDeprecateEOF == 0 {
		return c.send(mysqlwire.EOFPacket(0, metaStatus(c.status)))
	}
	return c.writeOK(mysqlwire.OK{Header: mysqlwire.HdrEOF, Status: metaStatus(c.status)})
}
