package mysqlproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	srv  *Server
	ps   *proxy.Session
	id   uint32
	caps uint32
	cl   *mysqlwire.PacketConn
	// handed receives the connection (or error) of a queued borrow from
	// Ready; made on the first queued borrow and reused.
	handed chan handoff

	scramble [mysqlwire.ScrambleLen]byte
	// killed: KILL CONNECTION ended the session; a borrow it waits in, or
	// queues for next, fails (errKilled).
	killed atomic.Bool
	user   string
	login  proxy.Login

	// The session state the client expects on every backend it borrows.
	schema       string
	vars         vars // nil until a variable is tracked
	lastInsertID uint64
	status       uint16
	charset      byte
	varsReady    bool // handshake character set resolved into vars
	multi        bool

	stmts    map[uint32]*clientStmt
	longData map[uint32]bool // statements with COM_STMT_SEND_LONG_DATA pending
	nextStmt uint32
	holdTx   bool   // SET TRANSACTION awaits the next transaction
	curSQL   []byte // statement being run, for the pin digest
	// lastSQL and lastScan: the last COM_QUERY text scanned and what the
	// scan found (scanQuery); haveLast: they are set.
	lastSQL  []byte
	lastScan scanResult
	haveLast bool
	cmd      []byte  // the command being run (reused buffer)
	scratch  []byte  // a rewritten COM_STMT_EXECUTE (reused buffer)
	eof      [5]byte // an EOF packet being sent
	// explain: a state change the server reports for the running command
	// may be explained by the variables and schema it reports (a SET or
	// USE the scan could read), rather than pinning the session.
	explain bool

	be *proxy.Pooled[*backendConn]
	// lastBackend is the pool id of the backend the session last
	// borrowed: the only one whose unflagged state it may still see.
	lastBackend proxy.LastBackend
	pinned      bool
	// fromQueue: be was handed over by a queued borrow (Ready).
	fromQueue bool

	// Pipelining (pipeline.go). pipe: the pending command may run in a
	// pipeline, as pipeCmd (pipeStmt is its statement for
	// COM_STMT_EXECUTE); set before it borrows, read by a leading session
	// under the pool's lock while this one is queued. pipeStart is where
	// its unit starts in the pipeline's write, pipeOut how it ended.
	pipe bool
	// sink: client write errors are kept in sinkErr rather than ending
	// the relay (a pipelined reply is read to its end regardless).
	sink      bool
	pipeCmd   []byte
	pipeStmt  *clientStmt
	pipeStart int
	pipeOut   error
	members   []*session // the sessions in the pipeline this one leads
	sinkErr   error
	// holdReply: the relay of the session's own command leaves the
	// reply's tail in the client buffer; the loop sends it (sendHeld)
	// after the backend went back, just before it reads the next command
	// (exchange says when).
	holdReply bool

	mu      sync.Mutex // guards following fields
	running *backendConn
	// runningSQL is the statement running (for KILL diagnostics and tests);
	// it aliases the client read buffer, valid while running is set.
	runningSQL []byte
	// abort cancels the pool.Get the session waits in, if any (kill).
	abort context.CancelFunc
}

func newSession(s *Server, ps *proxy.Session) *session {
	c := &session{srv: s, ps: ps, id: uint32(ps.ID), cl: mysqlwire.NewPacketConn(ps.Conn), status: mysqlwire.StatusAutocommit}
	copy(c.scramble[:], mysqlwire.NewScramble())
	return c
}

// clientGoneError marks a failed write to the client.
type clientGoneError struct{ err error }

func (e *clientGoneError) Error() string { return "client connection lost: " + e.err.Error() }
func (e *clientGoneError) Unwrap() error { return e.err }

func (c *session) run(ctx context.Context) error {
	if err := c.handshake(ctx); err != nil {
		return err
	}
	c.ps.AllowRest()
	// With many sessions awake, park before the first command
	// (proxy.Session.Crowded).
	if c.ps.Crowded() && c.ps.WaitIdle() == nil {
		if err := c.park(c.ps.ParkFresh); err != nil {
			return err
		}
	}
	return c.loop(ctx)
}

// loop serves the client's commands until it leaves, the session parks
// (proxy.ErrParked: resume carries on) or an error.
func (c *session) loop(ctx context.Context) error {
	for {
		if c.be == nil {
			if err := c.ps.WaitIdle(); err != nil {
				_ = c.cl.Flush() // the last reply still goes out
				return err
			}
			c.ps.Peeking(true) // a rest nudge may end this read, not a packet's
			if err := c.sendHeld(); err != nil {
				return err
			}
			_, err := c.cl.Peek(1)
			c.ps.Peeking(false)
			if err != nil {
				if err := c.idleRead(err); err != nil {
					return err
				}
				continue
			}
			c.ps.Busy()
		} else if err := c.sendHeld(); err != nil {
			return err
		}
		c.cl.ResetSeq()
		p, err := c.cl.ReadPacket()
		if errors.Is(err, io.EOF) {
			return nil // client closed without COM_QUIT
		}
		if err != nil {
			return fmt.Errorf("read command: %w", err)
		}
		c.ps.Counters.BytesIn += uint64(len(p)) + 4
		// A command is used while the client socket may be read again
		// (proxy.Session.ArmWatch), which can refill the buffer p points into.
		c.cmd = append(c.cmd[:0], p...)
		p = c.cmd
		if cap(c.cmd) > 64<<10 {
			c.cmd = nil // do not pin a huge statement's buffer
		}
		if len(p) == 0 {
			if err := c.sendErr(newError(erUnknownCommand, "08S01", "Unknown command")); err != nil {
				return err
			}
			continue
		}
		quit, err := c.dispatch(ctx, p)
		if err != nil || quit {
			return err
		}
	}
}

func (c *session) dispatch(ctx context.Context, p []byte) (quit bool, err error) {
	c.explain, c.pipe = false, false
	switch p[0] {
	case mysqlwire.ComQuit:
		return true, nil
	case mysqlwire.ComPing:
		return false, c.writeOK(mysqlwire.OK{Status: metaStatus(c.status)})
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
	sc := c.scanQuery(sql)
	c.markPipe(p, sc.pipeable(), nil)
	if err := c.borrow(ctx); err != nil {
		if errors.Is(err, errPiped) {
			return c.pipedDone()
		}
		return c.sendErr(borrowError(err))
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
	return c.exchangeUnit(p)
}

// forward relays a command that needs a backend but no proxy logic.
func (c *session) forward(ctx context.Context, p []byte) error {
	if err := c.borrow(ctx); err != nil {
		return c.sendErr(borrowError(err))
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

// sendHeld sends the reply tail the last relay left buffered
// (holdReply). It does not wait for the client's next command in the same
// step (rawconn.Conn.WriteAwait): a client that pipelines may have sent
// it already, and then nothing more arrives to announce it.
func (c *session) sendHeld() error {
	if c.cl.Buffered() == 0 {
		return nil
	}
	if err := c.cl.Flush(); err != nil {
		return &clientGoneError{err}
	}
	return nil
}

// exchange sends cmd to the held backend and relays the response. When
// the backend was not handed over from the pool's queue (no contention),
// the reply's tail stays buffered (holdReply) until the loop reads the
// next command: the backend goes back to the pool first, and the loop
// then sends it (sendHeld). A session that had to queue for its backend
// gets its reply at once.
func (c *session) exchange(cmd []byte, kind respKind) error {
	be := c.be.Conn
	c.setRunning(be)
	c.ps.ArmWatch()
	be.pending = true
	err := be.pc.CommandAwait(cmd) // returns once the reply begins to arrive
	var res relayResult
	if err == nil {
		c.holdReply = !c.fromQueue
		res, err = c.relay(be, kind)
		c.holdReply = false
	} else {
		err = be.fail(err)
	}
	be.pending = false
	c.ps.StopWatch()
	c.setRunning(nil)
	return c.finish(be, res, err)
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
		c.ps.Log().Debug("error sent to client", "code", e.Code, "err", e.Err)
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
