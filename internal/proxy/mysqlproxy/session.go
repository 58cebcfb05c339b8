package mysqlproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// cleanupTimeout bounds ROLLBACK and reset when a session ends.
const cleanupTimeout = 5 * time.Second

// session is one client connection: it borrows a backend per command, or
// per transaction while SERVER_STATUS_IN_TRANS is set, and for the rest of
// the session once pinned.
type session struct {
	srv    *Server
	ps     *proxy.Session
	id     uint32
	cl     *mysqlwire.PacketConn
	log    *slog.Logger
	cancel context.CancelFunc
	raw    net.Conn // the client TCP connection, under any TLS
	ctx    context.Context

	// hmu is the right to handle the session's commands and its state
	// below: held by the session goroutine while it handles a command,
	// then by the relay of its reply or by Ready (dispatch.go).
	hmu   sync.Mutex
	hcond *sync.Cond // on hmu: a queued command was taken by Ready
	// queued: the session waits in the pool's queue with queuedCmd.
	queued    bool
	queuedCmd []byte
	gone      bool // the session ended; a late Ready returns the connection
	// given and givenErr are what Ready handed the queued borrow.
	given    *poolConn
	givenErr error
	idle     bool        // WaitIdle called, Busy not yet
	left     atomic.Bool // the client read failed (disconnect) while a command ran
	failSet  atomic.Bool // failErr is set

	caps     uint32
	scramble []byte
	charset  byte
	user     string
	login    proxy.Login

	// The session state the client expects on every backend it borrows.
	schema       string
	vars         vars
	varsReady    bool // handshake character set resolved into vars
	lastInsertID uint64
	multi        bool
	status       uint16

	stmts    map[uint32]*clientStmt
	nextStmt uint32
	longData map[uint32]bool // statements with COM_STMT_SEND_LONG_DATA pending
	holdTx   bool            // SET TRANSACTION awaits the next transaction
	curSQL   []byte          // statement being run, for the pin digest
	cmd      []byte          // the command being run (reused buffer)
	scratch  []byte          // a rewritten COM_STMT_EXECUTE (reused buffer)
	eof      [5]byte         // an EOF packet being sent
	// explain: a state change the server reports for the running command
	// may be explained by the variables and schema it reports (a SET or
	// USE the scan could read), rather than pinning the session.
	explain bool

	be     *proxy.Pooled[*backendConn]
	pinned bool
	watch  cmdWatch

	mu      sync.Mutex // guards following fields
	running *backendConn
	failErr error // why a relay or Ready ended the session
	// runningSQL is the statement running (for KILL diagnostics and tests);
	// it aliases the client read buffer, valid while running is set.
	runningSQL []byte
}

func newSession(s *Server, ps *proxy.Session, cancel context.CancelFunc) *session {
	c := &session{srv: s, ps: ps, id: uint32(ps.ID), cl: mysqlwire.NewPacketConn(ps.Conn), cancel: cancel, raw: ps.Conn,
		log: ps.Log.With("proto", "mysql"), scramble: mysqlwire.NewScramble(), vars: vars{}, status: mysqlwire.StatusAutocommit,
		stmts: map[uint32]*clientStmt{}, longData: map[uint32]bool{}}
	c.hcond = sync.NewCond(&c.hmu)
	return c
}

// clientGoneError marks a failed write to the client.
type clientGoneError struct{ err error }

func (e *clientGoneError) Error() string { return "client connection lost: " + e.err.Error() }
func (e *clientGoneError) Unwrap() error { return e.err }

// run serves the client. The goroutine reads commands and handles them
// while it holds hmu; it waits for the client's next command without it,
// while the reply to the previous one may still be relayed.
func (c *session) run(ctx context.Context) error {
	if err := c.handshake(ctx); err != nil {
		return err
	}
	c.ctx = ctx
	c.hmu.Lock()
	held := true
	defer func() {
		if !held {
			c.hmu.Lock()
		}
		c.dequeue()
		c.close()
		c.hmu.Unlock()
	}()
	c.endCommand()
	for {
		if held {
			c.hmu.Unlock()
			held = false
		}
		_, perr := c.cl.Peek(1)
		if perr != nil {
			c.left.Store(true)
		}
		c.hmu.Lock()
		held = true
		for c.queued && perr == nil {
			c.hcond.Wait() // input before the queued command was served
		}
		if err := c.failed(); err != nil {
			return err
		}
		if perr != nil {
			return c.readErr(perr)
		}
		p, err := c.readCommand()
		if err != nil || p == nil {
			return err
		}
		quit, err := c.command(p)
		switch {
		case errors.Is(err, errRelaying):
			held = false
		case errors.Is(err, errQueued):
		case err != nil || quit:
			return err
		}
	}
}

// readErr maps a failed wait for the client's next command.
func (c *session) readErr(err error) error {
	if c.idle {
		return c.ps.IdleErr(err)
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("read command: %w", err)
}

// readCommand reads the next command into the session's buffer; nil
// without an error when the client closed. hmu is held.
func (c *session) readCommand() ([]byte, error) {
	if c.idle {
		c.idle = false
		c.ps.Busy()
	}
	c.cl.ResetSeq()
	p, err := c.cl.ReadPacket()
	if errors.Is(err, io.EOF) {
		return nil, nil // client closed without COM_QUIT
	}
	if err != nil {
		return nil, fmt.Errorf("read command: %w", err)
	}
	c.ps.Counters.BytesIn += uint64(len(p)) + 4
	// The command outlives the read buffer: the client socket is read
	// again while it waits in the queue or its reply is relayed.
	c.cmd = append(c.cmd[:0], p...)
	p = c.cmd
	if cap(c.cmd) > 64<<10 {
		c.cmd = nil // do not pin a huge statement's buffer
	}
	return p, nil
}

func (c *session) dispatch(ctx context.Context, p []byte) (quit bool, err error) {
	c.explain = false
	if len(p) == 0 {
		return false, c.sendErr(newError(erUnknownCommand, "08S01", "Unknown command"))
	}
	switch p[0] {
	case mysqlwire.ComQuit:
		return true, nil
	case mysqlwire.ComPing:
		return false, c.writeOK(mysqlwire.OK{Status: c.status &^ mysqlwire.StatusStateChanged})
	case mysqlwire.ComQuery:
		return false, c.query(ctx, p)
	case mysqlwire.ComInitDB, mysqlwire.ComStatistics, mysqlwire.ComFieldList, mysqlwire.ComProcessInfo, mysqlwire.ComDebug:
		return false, c.forward(ctx, p)
	case mysqlwire.ComStmtPrepare:
		return false, c.stmtPrepare(ctx, p)
	case mysqlwire.ComStmtExecute:
		return false, c.stmtExecute(ctx, p)
	case mysqlwire.ComStmtSendLongData:
		return false, c.stmtLongData(ctx, p)
	case mysqlwire.ComStmtClose:
		return false, c.stmtClose(p)
	case mysqlwire.ComStmtReset:
		return false, c.stmtReset(ctx, p)
	case mysqlwire.ComStmtFetch:
		return false, c.stmtFetch(ctx, p)
	case mysqlwire.ComProcessKill:
		if len(p) < 5 {
			return false, c.sendErr(newError(erUnknownCommand, "08S01", "Malformed COM_PROCESS_KILL"))
		}
		id, _ := stmtID(p)
		return false, c.kill(ctx, killStmt{id: id})
	case mysqlwire.ComChangeUser:
		return c.changeUser(ctx, p)
	case mysqlwire.ComResetConnection:
		return false, c.resetConnection()
	case mysqlwire.ComSetOption:
		return false, c.setOption(p)
	}
	return false, c.sendErr(newError(erUnknownCommand, "08S01", "Unknown command"))
}

// query runs COM_QUERY.
func (c *session) query(ctx context.Context, p []byte) error {
	c.ps.Counters.Queries++
	sql := p[1:]
	if k, ok := parseKill(sql); ok {
		return c.kill(ctx, k)
	}
	c.curSQL = sql
	sc := scanSQL(sql)
	if err := c.borrow(ctx); err != nil {
		return c.borrowFailed(err)
	}
	if sc.pin != "" {
		c.pin(sc.pin)
	}
	c.explain = sc.sessionCmd && !sc.routine
	if sc.routine && !c.pinned {
		c.be.Conn.tainted = true
	}
	if sc.usesLastInsertID {
		if err := c.syncLastInsertID(); err != nil {
			return c.finish(c.be.Conn, relayResult{}, err)
		}
	}
	return c.exchange(p, respResult)
}

// forward relays a command that needs a backend but no proxy logic.
func (c *session) forward(ctx context.Context, p []byte) error {
	if err := c.borrow(ctx); err != nil {
		return c.borrowFailed(err)
	}
	kind := respResult
	c.explain = p[0] == mysqlwire.ComInitDB
	switch p[0] {
	case mysqlwire.ComStatistics:
		kind = respSingle
	case mysqlwire.ComFieldList:
		kind = respFieldList
	}
	return c.exchange(p, kind)
}

// exchange sends cmd to the held backend and hands the relay of the
// response to the backend's reader goroutine, with hmu (errRelaying).
func (c *session) exchange(cmd []byte, kind respKind) error {
	be := c.be.Conn
	c.setRunning(be)
	c.startWatch()
	be.pending = true
	if err := be.pc.Command(cmd); err != nil {
		err = be.fail(err)
		be.pending = false
		c.stopWatch()
		c.setRunning(nil)
		return c.finish(be, relayResult{}, err)
	}
	be.start(relayJob{c: c, be: be, kind: kind})
	return errRelaying
}

// finish handles the end of a command on be: backend loss, the status
// after an error, and release at a transaction boundary.
func (c *session) finish(be *backendConn, res relayResult, err error) error {
	if err != nil {
		var gone *clientGoneError
		if errors.As(err, &gone) {
			be.broken = true // mid-response: the stream cannot be resumed
			c.srv.px.CountError("client_lost")
			return err
		}
		var me *Error
		if errors.As(err, &me) && !be.broken {
			if werr := c.sendErr(me); werr != nil {
				return werr
			}
			c.maybeRelease()
			return nil
		}
		inTx := be.inTrans() || c.pinned
		be.broken = true
		c.srv.px.CountError("backend_lost")
		c.putBackend()
		if werr := c.sendErr(lostError(err)); werr != nil {
			return werr
		}
		if inTx {
			return fmt.Errorf("database connection lost in a transaction: %w", err)
		}
		return nil
	}
	if res.err && !c.pinned {
		// ERR carries no status: ask whether a transaction is open.
		if err := be.ping(); err != nil && be.broken {
			c.putBackend()
			return nil
		}
	}
	if res.results > 1 && res.changed {
		c.pin("multi-statement changed session state")
	}
	c.status = be.status
	c.maybeRelease()
	return nil
}

func (c *session) setRunning(be *backendConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running, c.runningSQL = be, c.curSQL
}

// pin keeps the held backend for the rest of the session.
func (c *session) pin(reason string) {
	if c.pinned {
		return
	}
	c.pinned = true
	var id uint64
	if c.be != nil {
		id = c.be.ID
	}
	c.ps.Pin(reason, digest(c.curSQL), id)
}

func (c *session) sendErr(e *Error) error {
	if e.Err != nil {
		c.log.Debug("error sent to client", "code", e.Code, "err", e.Err)
	}
	return c.send(e.Packet())
}

func (c *session) writeOK(ok mysqlwire.OK) error { return c.send(ok.Encode(nil, c.caps)) }

// send writes one packet to the client and flushes.
func (c *session) send(p []byte) error {
	if err := c.cl.WritePacket(p); err != nil {
		return &clientGoneError{err}
	}
	c.ps.Counters.BytesOut += uint64(len(p)) + 4
	if err := c.cl.Flush(); err != nil {
		return &clientGoneError{err}
	}
	return nil
}

func (c *session) remoteHost() string {
	host, _, err := net.SplitHostPort(c.ps.Conn.RemoteAddr().String())
	if err != nil {
		return "unknown"
	}
	return host
}
