package mysqlproxy

// Pipelining of queued autocommit units. When a backend is handed to a
// queued session (Ready) whose command is one self-contained, state-free
// unit — a COM_QUERY of one plain SELECT, INSERT, UPDATE, DELETE, REPLACE
// or WITH statement the scan finds free of session state and of calls it
// cannot vouch for, or a COM_STMT_EXECUTE of such a prepared statement
// already prepared on that backend — and the next sessions queued for the
// same login have such units too, up to pipelineDepth units go to the
// backend in one write (proxy.Pool.Chain takes the joining sessions out
// of the queue). The leading session's goroutine then relays the replies
// in order, each to its own client, reading every command's reply to its
// terminator (an OK or ERR, or a result set's end, following
// SERVER_MORE_RESULTS_EXISTS like any relay), and hands each joined
// session the outcome of its command; the backend goes back to the pool
// after the last reply.
//
// A joining session must need nothing done to the backend first: the
// same schema, tracked variables and multi-statement setting, no reset
// (so never in isolation: strict), autocommit on and no transaction open,
// not pinned, no long data or SET TRANSACTION pending. With autocommit on
// and no transaction open, a failed statement cannot open one, so an ERR
// in a pipeline is not followed by the COM_PING that learns the status
// after an ERR elsewhere. A pipelined command is not killed when its
// client leaves or asks KILL QUERY (the server may be running another
// client's statement by then); its reply is read to the end and dropped.
//
// Should a unit leave the backend's session changed (a transaction open,
// state the server flags, e.g. from a trigger), its client keeps the
// reply it got but its connection is closed, as its session state went
// with the backend, which is closed: the clients whose units follow get a
// lost-connection error (2013), never a reply given in that state. If the
// backend fails, the units whose bytes the write never sent are borrowed
// again (pipeRetries) and every other unit's client gets 2013.

import (
	"errors"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// pipelineDepth bounds the units in one backend write (a var for tests).
// Eight keeps a pipeline's last client waiting for at most seven other
// short statements.
var pipelineDepth = 8

// maxPipeUnit bounds the bytes of a command that may join a pipeline.
const maxPipeUnit = 4 << 10

// errPiped tells a session's borrow that its command was run in another
// session's pipeline; pipeOut holds how it ended.
var errPiped = errors.New("command ran in a pipeline")

// errPipelineState ends a session whose pipelined unit left the backend
// session changed.
var errPipelineState = errors.New("a pipelined statement left the database session changed")

// errPipelinePanic is the outcome of the units of a pipeline whose
// leading session panicked before their replies were relayed.
var errPipelinePanic = errors.New("the session relaying a pipeline failed")

// pipeLostError is a pipelined unit's outcome when the backend was lost
// after its bytes were sent: its client gets a lost-connection error.
type pipeLostError struct{ err error }

func (e *pipeLostError) Error() string {
	return "database connection lost in a pipeline: " + e.err.Error()
}
func (e *pipeLostError) Unwrap() error { return e.err }

// pipeFlushHook, when set (tests), runs before a pipeline is written.
var pipeFlushHook func(be *backendConn)

// pipeable reports whether the scanned statement may be a pipelined unit.
func (r scanResult) pipeable() bool {
	switch r.verb {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
	default:
		return false
	}
	return r.pin == "" && !r.usesLastInsertID && !r.multi && !r.sessionCmd && !r.routine && !r.noPipe
}

// markPipe records, before the command cmd borrows, whether it may run in
// a pipeline (ok: its statement is pipeable); cs is the statement of a
// COM_STMT_EXECUTE. A session's first borrow resolves its handshake
// character set (sync), so its first command is never pipelined.
func (c *session) markPipe(cmd []byte, ok bool, cs *clientStmt) {
	c.pipe = ok && c.varsReady && pipelineDepth > 1 && !c.srv.strict && !c.pinned && c.be == nil && !c.holdTx &&
		len(c.longData) == 0 && len(cmd) <= maxPipeUnit
	c.pipeCmd, c.pipeStmt = cmd, cs
}

// exchangeUnit sends a COM_QUERY or COM_STMT_EXECUTE to the held backend
// and relays the reply: in a pipeline with the units of the sessions
// queued behind it when it may lead one.
func (c *session) exchangeUnit(cmd []byte) error {
	if c.canLead() {
		if ms := c.gather(c.be.Conn, len(cmd)); len(ms) > 0 {
			return c.pipeline(cmd, ms)
		}
	}
	return c.exchange(cmd, respResult)
}

// canLead reports whether the session, handed its backend by a queued
// borrow, may start a pipeline on it.
func (c *session) canLead() bool {
	be := c.be.Conn
	return c.pipe && c.fromQueue && !c.pinned && be.status&mysqlwire.StatusAutocommit != 0 && !be.inTrans() &&
		!be.dirty && !be.tainted && !be.broken && be.pc.Buffered() == 0
}

// gather takes the sessions queued for be's login whose units may follow
// the leader's (lead bytes) in one write, in queue order.
func (c *session) gather(be *backendConn, lead int) []*session {
	ms := c.members[:0]
	room := be.pc.Available() - 4 - lead
	for len(ms)+1 < pipelineDepth {
		var m *session
		w := c.srv.pool.Chain(c.be, func(w proxy.Waiter[*backendConn]) bool {
			s, ok := w.(*session)
			if !ok || !s.canJoin(be, room) {
				return false
			}
			m = s
			return true
		})
		if w == nil {
			break
		}
		room -= 4 + len(m.pipeCmd)
		ms = append(ms, m)
	}
	c.members = ms
	return ms
}

// canJoin reports whether the queued session's unit may run on be as it
// is, and sets pipeCmd to the command to write (a COM_STMT_EXECUTE
// rewritten for be's statement id). It runs under the pool's lock while
// the session waits in poolGet.
func (c *session) canJoin(be *backendConn, room int) bool {
	if !c.pipe || c.pinned || c.be != nil || c.holdTx || len(c.longData) > 0 || c.schema != be.schema ||
		c.multi != (be.multi == 1) || replaySQL(c.vars, be.vars, be.baseline) != "" {
		return false
	}
	cmd := c.pipeCmd
	if cs := c.pipeStmt; cs != nil {
		st := be.stmts.get(cs.key)
		if st == nil || st.params != cs.params {
			return false
		}
		out, err := rewriteExecute(cmd, st.id, cs, &c.scratch)
		if err != nil {
			return false
		}
		cmd = out
	}
	if 4+len(cmd) > room {
		return false
	}
	c.pipeCmd = cmd
	return true
}

// pipeline writes the leader's command cmd and the units of ms in one
// write, relays every reply to its own client and returns the backend.
func (c *session) pipeline(cmd []byte, ms []*session) error {
	defer clear(ms)
	be := c.be.Conn
	c.srv.pipelines.Add(1)
	c.srv.pipedUnits.Add(uint64(len(ms) + 1))
	c.srv.px.CountPipeline(len(ms) + 1)
	be.pending = true
	_ = be.pc.QueueCommand(cmd) // buffered: room was checked
	for _, m := range ms {
		m.pipeStart = be.pc.Buffered()
		_ = be.pc.QueueCommand(m.pipeCmd)
	}
	total := be.pc.Buffered()
	if pipeFlushHook != nil {
		pipeFlushHook(be)
	}
	if err := be.pc.Flush(); err != nil {
		return c.pipeWriteFailed(ms, total-be.pc.Buffered(), be.fail(err))
	}
	next := 0 // the first member not told its outcome
	defer func() {
		if v := recover(); v != nil {
			be.broken = true // a panic: no member is left waiting
			for _, m := range ms[next:] {
				m.handed <- handoff{piped: true, err: &pipeLostError{errPipelinePanic}}
			}
			panic(v)
		}
	}()
	var lost error
	out := c.relayUnit(be, &lost)
	for i, m := range ms {
		res := error(&pipeLostError{lost})
		if lost == nil {
			res = m.relayUnit(be, &lost)
		}
		next = i + 1
		m.handed <- handoff{piped: true, err: res}
	}
	if !be.broken {
		be.pending = false
	}
	c.putBackend()
	return c.pipeResult(out)
}

// relayUnit relays the reply to the session's pipelined unit on be and
// returns how its command ends. Client write failures do not stop the
// relay: the reply is read to its end so the units behind stay in step.
// *lost is set when be is lost or left in a state the units behind must
// not see.
func (c *session) relayUnit(be *backendConn, lost *error) error {
	c.sink = true
	res, err := c.relay(be, respResult)
	c.sink = false
	gone := c.sinkErr
	c.sinkErr = nil
	if err != nil {
		*lost = be.fail(err)
		if gone != nil {
			return &clientGoneError{gone}
		}
		return &pipeLostError{err}
	}
	if !res.err {
		c.status = be.status
	}
	be.owner = c.ps.ID
	if res.changed || c.pinned || be.inTrans() || be.dirty {
		be.broken = true
		*lost = errPipelineState
		return errPipelineState
	}
	if gone != nil {
		return &clientGoneError{gone}
	}
	return nil
}

// pipeWriteFailed handles a pipeline whose write failed after written
// bytes: the joined units that start beyond them never reached the
// server and are borrowed again; every other unit's client, the
// leader's included, gets a lost-connection error.
func (c *session) pipeWriteFailed(ms []*session, written int, err error) error {
	for _, m := range ms {
		if m.pipeStart >= written {
			c.srv.pipeRetries.Add(1)
			m.handed <- handoff{retry: true}
			continue
		}
		m.handed <- handoff{piped: true, err: &pipeLostError{err}}
	}
	return c.finish(c.be.Conn, relayResult{}, err)
}

// pipedDone ends a command another session ran in its pipeline.
func (c *session) pipedDone() error {
	c.ps.Counters.Transactions++
	err := c.pipeOut
	c.pipeOut = nil
	return c.pipeResult(err)
}

// pipeResult answers the outcome of the session's pipelined unit: a lost
// backend becomes error 2013 for the client, the session going on; a
// client gone or a changed session state end the session.
func (c *session) pipeResult(err error) error {
	var lost *pipeLostError
	var gone *clientGoneError
	switch {
	case errors.As(err, &lost):
		c.srv.px.CountError("backend_lost")
		return c.sendErr(lostError(lost.err))
	case errors.As(err, &gone):
		c.srv.px.CountError("client_lost")
	case errors.Is(err, errPipelineState):
		c.srv.px.CountError("pipeline_state")
	case err != nil:
		c.srv.px.CountError("backend_lost")
	}
	return err
}
