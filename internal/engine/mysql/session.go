package mysql

// Session state: what Dirty reports and Reset clears.
//
// MariaDB 10.11 reports through session tracking (switched on at connect):
// SET of system and user variables, SET NAMES, USE, CREATE TEMPORARY
// TABLE, PREPARE. It does not report user variables assigned inside
// SELECT (@v := …, INTO @v), named locks (GET_LOCK), LAST_INSERT_ID(expr)
// or sequence values; the statement scan (scan.go) covers those, and every
// statement it does not know as data access or persistent DDL. The
// transaction status flag covers open transactions; a generated
// LAST_INSERT_ID or warnings left for SHOW WARNINGS count as state too.
// When a generated LAST_INSERT_ID is all there is (the common case of an
// INSERT into an AUTO_INCREMENT table), Reset does not reset: it queues
// "DO LAST_INSERT_ID(0)" to go out in the same write as the next
// command, whoever sends it, and reads its answer first. The caller that
// made the insert can still read the id until its session is handed back.
// What neither sees: a stored function or trigger that assigns a user
// variable with SELECT … INTO @v (a SET inside one is reported) or takes
// a named lock. Callers that run such code need a reset on every
// hand-over, whatever Dirty says.
//
// COM_RESET_CONNECTION clears user variables, temporary tables, prepared
// statements, named locks, the transaction and LAST_INSERT_ID, and puts
// session variables back to their global values (the tracking settings
// too) — but keeps the current database. Reset therefore pipelines, in
// one round trip: the reset, COM_INIT_DB of the login database, and the
// set-up statement (character set and tracking). COM_CHANGE_USER resets
// the database too; Reset uses it when there is no login database to
// go back to.

import (
	"context"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// setupSQL pins the login character set (utf8mb4, the one parameters are
// written for) and switches session tracking on.
const setupSQL = "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci, SESSION session_track_state_change=ON, " +
	"session_track_schema=ON, session_track_system_variables='*'"

// setup runs setupSQL, after the commands in pre (pipelined with it).
func (c *Conn) setup(ctx context.Context, pre [][]byte) error {
	c.quiet = true
	defer func() { c.quiet = false }()
	cmds := append(pre, mysqlwire.QueryCommand(setupSQL))
	err := c.guard(ctx, func() error { return c.cl.Pipeline(cmds...) })
	if err != nil {
		return err
	}
	c.state, c.unsure = false, false
	return nil
}

// onState records a session-state change the server reported.
func (c *Conn) onState(sc mysqlwire.StateChange) {
	if sc.HasSchema {
		c.schema = sc.Schema
	}
	if !c.quiet && (sc.Changed || len(sc.Vars) > 0 || sc.HasSchema) {
		c.state, c.unsure = true, true
	}
}

// noteOK marks state the OK that ended a statement reveals: a
// LAST_INSERT_ID or warnings the next caller could read.
func (c *Conn) noteOK(ok mysqlwire.OK) {
	if ok.LastInsertID != 0 {
		c.lastID = true
	}
	if ok.Warnings != 0 {
		c.state = true
	}
	if ok.Status&mysqlwire.StatusStateChanged != 0 {
		c.state, c.unsure = true, true
	}
}

// literalMode chooses how parameters are written: quoted while the
// session's settings are as Connect left them (utf8mb4), hexadecimal once
// they may have changed (a SET NAMES may have switched the character set).
func (c *Conn) literalMode(noBackslash bool) literalMode {
	switch {
	case c.unsure:
		return quoteHex
	case noBackslash:
		return quoteDouble
	}
	return quoteBackslash
}

// Dirty reports whether the session may hold state since Connect or the
// last Reset, or a transaction is open.
func (c *Conn) Dirty() bool {
	return c.state || c.lastID || c.cl.Status()&mysqlwire.StatusInTrans != 0
}

// clearIDSQL puts LAST_INSERT_ID back to a new session's 0.
const clearIDSQL = "DO LAST_INSERT_ID(0)"

// prelude queues the deferred LAST_INSERT_ID clear in front of the
// command about to be sent, so the two go out in one write.
func (c *Conn) prelude() error {
	if !c.clearID {
		return nil
	}
	c.clearID = false
	if err := c.cl.Packets().QueuePrelude(mysqlwire.QueryCommand(clearIDSQL)); err != nil {
		return c.fail(err)
	}
	return nil
}

// ExecLast implements engine.LastExecer: an INSERT or REPLACE outside a
// transaction has clearIDSQL sent right behind it, in the same write, so
// the id it may generate is cleared in its own round trip and Reset has
// nothing to send. The statement's own answer, generated id included, is
// read first; the clear's answer is skipped after it, without a wait of
// its own.
func (c *Conn) ExecLast(ctx context.Context, sql string, params []engine.Param, maxBytes int) (*engine.Result, error) {
	c.last = true
	defer func() { c.last = false }()
	return c.Exec(ctx, sql, params, maxBytes)
}

// execThenClear runs query with clearIDSQL behind it (ExecLast).
func (c *Conn) execThenClear(query string, maxBytes int, abort func()) (*engine.Result, error) {
	var res *engine.Result
	rows, err := c.cl.QueryThen(query, mysqlwire.QueryCommand(clearIDSQL))
	if err != nil {
		err = c.fail(err)
	} else {
		res, err = c.read(rows, maxBytes, abort)
	}
	if c.broken {
		return nil, err
	}
	// The statement's answer (a result or the database's error) has been
	// read to its end: the clear's answer comes next.
	if perr := c.cl.Packets().ExpectPrelude(); perr != nil {
		if err == nil {
			err = c.fail(perr)
		}
		c.broken = true
		return nil, err
	}
	c.lastID = false
	return res, err
}

// checkPrelude marks the connection broken when the deferred clear
// failed: its LAST_INSERT_ID may belong to an earlier caller.
func (c *Conn) checkPrelude() {
	if c.cl.Packets().PreludeErr() != nil {
		c.broken = true
	}
}

// Reset returns the session to its state after Connect: COM_RESET_CONNECTION,
// the login database, utf8mb4 and session tracking, in one round trip. A
// session that logged in without a database but has one selected now is
// put back with COM_CHANGE_USER instead (MySQL has no "unselect"; one
// more round trip).
func (c *Conn) Reset(ctx context.Context) error {
	if c.broken {
		return errBroken
	}
	if c.lastID && !c.state && c.cl.Status()&mysqlwire.StatusInTrans == 0 {
		// Only a generated LAST_INSERT_ID: clear it in front of the next
		// command instead of a full reset (no round trip now).
		c.lastID, c.clearID = false, true
		return nil
	}
	c.lastID, c.clearID = false, false
	c.dropStmts() // the reset (or change user) drops them on the server
	cmds := [][]byte{mysqlwire.ResetCommand()}
	switch {
	case c.creds.Database != "":
		cmds = append(cmds, mysqlwire.InitDBCommand(c.creds.Database))
	case c.schema != "":
		cmds = nil
		err := c.guard(ctx, func() error { return c.cl.ChangeUser(c.creds.User, c.creds.Password, "") })
		if err != nil {
			c.broken = true // a failed COM_CHANGE_USER leaves no usable login
			return fmt.Errorf("mysql: reset session: %w", err)
		}
	}
	if err := c.setup(ctx, cmds); err != nil {
		return fmt.Errorf("mysql: reset session: %w", err)
	}
	if c.cl.Status()&mysqlwire.StatusInTrans != 0 {
		c.broken = true
		return fmt.Errorf("mysql: reset session: transaction still open: %w", engine.ErrResetUnsupported)
	}
	c.schema = c.creds.Database
	return nil
}
