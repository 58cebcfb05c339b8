package pgproxy

// Pipelining of queued autocommit units. When a backend is handed to a
// queued session (Ready) whose pending frames are one self-contained,
// state-free unit — a simple Query the classifier marks pipe, or an
// unnamed Parse/Bind/Describe/Execute/Sync batch of such a statement, or
// Bind/Execute/Sync of a prepared one — and the next sessions queued for
// the same login have such units too, up to pipelineDepth units go to the
// backend in one write. The backend's reader runs their relays one after
// the other (the jobs channel keeps their order): each relay consumes its
// session's replies up to its ReadyForQuery, so every client receives
// exactly its own unit's results or error. Only the last unit's relay
// returns the connection to the pool (backend.chained counts the units
// still behind the running one).
//
// Never pipelined: isolation: strict (every hand-over resets the
// session), a pinned session, one with an open transaction, tracked
// parameters to capture or to replay, a backend that must be reset, a
// unit that changes session state or calls a function the proxy cannot
// vouch for. A session whose unit is pipelined (piped) keeps any further
// frames of its client in the backlog until its reply has been read; its
// CancelRequests are dropped meanwhile, since the server may already be
// running another client's unit. Should a unit leave the backend in a
// transaction while units are behind it (a state-free unit cannot), that
// client gets a connection error and the connection is closed: the
// clients behind it get connection errors too, never another's reply.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"unsafe"

	"github.com/sqlgate/sqlgate/internal/proxy"
)

// pipelineDepth bounds the units in one backend write (a var for tests).
// Eight keeps a pipeline's last client waiting for at most seven other
// short statements, while one write and one wake-up of the backend's
// reader already serve most of what a pool's queue holds under load.
var pipelineDepth = 8

// pipeRoom is the backend write buffer space a unit joining a pipeline
// must find free, so that the pipeline goes out in the final flush and
// not in a partial write while it is being built.
const pipeRoom = 8 << 10

// maxPipeUnit bounds the bytes of a unit that may join a pipeline.
const maxPipeUnit = 4 << 10

// errPipelineState ends a pipelined session whose unit left its backend
// in a transaction while other clients' units were behind it.
var errPipelineState = errors.New("a pipelined statement left the server connection in a transaction")

// canLead reports whether the session, handed pb by Ready, may start a
// pipeline: its backlog is one pipeable unit and it holds nothing;
// s.hmu is held.
func (s *session) canLead() bool {
	return pipelineDepth > 1 && !s.srv.strict && !s.skipToSync && !s.failSet.Load() &&
		s.pipeUnit(s.backlog) && s.atRest()
}

// leads reports whether the session, after its backlog ran, wrote its
// unit to pb and waits for the reply; s.hmu is held.
func (s *session) leads(pb *pooled) bool {
	if s.queued.Load() || len(s.backlog) > 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.be == pb && !s.pinned && s.q.len() > 0 && len(s.capture) == 0
}

// atRest reports whether the session holds no backend and owes nothing.
func (s *session) atRest() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.be == nil && s.pending == nil && !s.writing && s.q.len() == 0 && !s.pinned &&
		len(s.capture) == 0 && !s.closing
}

// canJoin reports whether a queued session may add its unit to a
// pipeline on b: besides canLead's conditions, b needs neither a reset
// nor a parameter replay for it; s.hmu is held.
func (s *session) canJoin(b *backend) bool {
	if s.gone || !s.queued.Load() || s.piped.Load() || b.dirty || !s.canLead() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return sameSet(b.paramsID, s.paramsID) || maps.Equal(s.params, b.params)
}

// extendPipeline adds the units of the sessions queued behind head to
// head's write on pb, up to pipelineDepth in all; it returns how many
// joined. The caller flushes the backend. head.hmu is held.
func (srv *Server) extendPipeline(pb *pooled, head *session) int {
	b := pb.Conn
	if !b.handing.Load() {
		return 0 // a relay may be reading b: joining sessions' borrows look at its buffer
	}
	n := 0
	for n+1 < pipelineDepth && b.bw.Available() >= pipeRoom {
		var m *session
		w := srv.pool.Chain(pb, func(w proxy.Waiter[*backend]) bool {
			c := w.(*session)
			if !c.hmu.TryLock() {
				return false
			}
			if !c.canJoin(b) {
				c.hmu.Unlock()
				return false
			}
			m = c
			return true
		})
		if w == nil {
			break
		}
		if n == 0 {
			head.piped.Store(true)
		}
		head.members = append(head.members, pipeMember{s: m, start: b.bw.Buffered()})
		m.join(pb)
		n++
	}
	if n > 0 {
		srv.pipelines.Add(1)
		srv.pipedUnits.Add(uint64(n + 1))
		srv.core.CountPipeline(n + 1)
	}
	return n
}

// join writes the session's unit to pb behind the units already there;
// s.hmu is held and released.
func (s *session) join(pb *pooled) {
	defer s.hmu.Unlock()
	defer s.wakeBacklog()
	defer s.recoverDispatch()
	defer func() {
		if s.given != nil { // not used (a panic, or a unit that needed no backend)
			s.given = nil
			pb.Conn.chained.Add(-1)
			s.piped.Store(false)
		}
	}()
	s.ps.Busy()
	s.queued.Store(false)
	s.piped.Store(true)
	pb.Conn.chained.Add(1)
	s.given = pb
	s.unit = append(s.unit[:0], s.backlog...)
	err := s.runBacklog()
	s.mu.Lock()
	s.writing = false // the head's flush sends the frames
	s.mu.Unlock()
	if err != nil {
		s.fail(err)
	}
}

// pipeDone ends a pipelined session's turn on pb once its reply was read:
// the session handles what its client sent meanwhile, and pb goes on to
// the next unit's relay or, after the last, back to the pool.
func (s *session) pipeDone(pb *pooled) {
	_ = s.ps.WaitIdle()
	s.unpipe()
	if pb.Conn.chained.Load() > 0 {
		pb.Conn.chained.Add(-1)
		return
	}
	s.srv.handBack(pb)
}

// handBack returns the connection to the pool from its reader goroutine,
// after the relay read the last reply owed.
func (srv *Server) handBack(pb *pooled) {
	pb.Conn.handing.Store(true)
	srv.pool.Put(pb)
	pb.Conn.handing.Store(false)
}

// unpipe ends the session's piped state and runs the frames its client
// sent meanwhile on a new goroutine (they may need to wait for a
// backend). It does not wait for the client goroutine.
func (s *session) unpipe() {
	if s.hmu.TryLock() {
		s.unpipeLocked()
		return
	}
	go func() {
		s.hmu.Lock()
		s.unpipeLocked()
	}()
}

// unpipeLocked is unpipe with s.hmu held; it releases it.
func (s *session) unpipeLocked() {
	s.piped.Store(false)
	if cap(s.unit) > 256 {
		s.unit = nil // an idle session keeps no large buffer
	}
	s.unit = s.unit[:0]
	more := len(s.backlog) > 0 && !s.gone
	s.wakeBacklog()
	s.hmu.Unlock()
	if more {
		go s.Ready(nil, nil)
	}
}

// pipeMember is a session whose unit joined a pipeline, and where the
// unit starts in the backend's write buffer.
type pipeMember struct {
	s     *session
	start int
}

// pipeFlushHook, when set (tests), runs before a pipeline is flushed.
var pipeFlushHook func(b *backend)

// pipeWriteFailed handles a pipeline whose write failed after written
// bytes: the units that start beyond them never reached the server and
// are retried on another backend; the connection is closed, so every
// other unit's client gets a connection error.
func (srv *Server) pipeWriteFailed(pb *pooled, members []pipeMember, written int) {
	for _, m := range members {
		if m.start >= written {
			m.s.withdraw(pb)
		}
	}
	_ = pb.Conn.conn.Close()
}

// withdraw takes back the session's pipelined unit, none of which was
// written to pb: the session no longer holds pb, so the reader skips its
// relay (serve), and the unit goes first in the backlog, which a Ready
// handles on a new goroutine (borrowing again). It runs on pb's reader
// goroutine before that reader takes the pipeline's relays.
func (s *session) withdraw(pb *pooled) {
	s.hmu.Lock()
	s.mu.Lock()
	mine := s.be == pb
	if mine {
		s.be, s.q, s.status, s.unnamedOK, s.writing = nil, queue{}, 'I', false, false
	}
	s.mu.Unlock()
	if !mine {
		s.hmu.Unlock()
		return
	}
	pb.Conn.chained.Add(-1)
	s.piped.Store(false)
	s.backlog = append(s.unit, s.backlog...)
	s.unit = nil
	s.ps.Counters.Transactions--
	s.srv.pipeRetries.Add(1)
	retry := !s.gone
	s.hmu.Unlock()
	if retry {
		go s.Ready(nil, nil)
	}
}

// pipeUnit reports whether buf holds exactly one pipeable unit: a simple
// Query of a pipe statement, or Parse (unnamed) / Bind / Describe /
// Execute of unnamed portals ending in one Sync, where every statement
// is a pipe statement.
func (s *session) pipeUnit(buf []byte) bool {
	if len(buf) == 0 || len(buf) > maxPipeUnit {
		return false
	}
	parsed := false
	for off, n := 0, 0; off < len(buf); n++ {
		if len(buf)-off < 5 {
			return false
		}
		l := 1 + int(binary.BigEndian.Uint32(buf[off+1:]))
		if l < 5 || l > len(buf)-off {
			return false
		}
		t, body := buf[off], buf[off+5:off+l]
		off += l
		last := off == len(buf)
		switch t {
		case 'Q':
			sql, _, ok := cstring(body)
			return ok && n == 0 && last && s.classifyQuery(sql).pipe
		case 'S':
			return n > 0 && last
		case 'P':
			name, rest, ok := cstring(body)
			if !ok || len(name) > 0 || !s.srv.stmts.get(rest).class.pipe {
				return false
			}
			parsed = true
		case 'B':
			portal, rest, ok := cstring(body)
			if !ok || len(portal) > 0 {
				return false
			}
			stmt, _, ok := cstring(rest)
			if !ok || !s.pipeStmt(stmt, parsed) {
				return false
			}
		case 'D':
			if len(body) < 2 {
				return false
			}
			name, _, ok := cstring(body[1:])
			if !ok || body[0] == 'P' && len(name) > 0 || body[0] == 'S' && !s.pipeStmt(name, parsed) || body[0] != 'P' && body[0] != 'S' {
				return false
			}
		case 'E':
			portal, _, ok := cstring(body)
			if !ok || len(portal) > 0 {
				return false
			}
		default:
			return false
		}
	}
	return false
}

// maxKeptQuery bounds the query text a session keeps for classifyQuery.
const maxKeptQuery = 4 << 10

// classifyQuery classifies a simple query's text. The last text up to
// maxKeptQuery bytes and its class are kept: the pipeline check and the
// handling that follows classify the same text, and so does a query that
// waited for a backend and is handled again. The class is a function of
// the text alone, so it stays valid for as long as the text is the same,
// or differs only in the values of its literals (classify_shape.go).
func (s *session) classifyQuery(sql []byte) sqlClass {
	if len(sql) > maxKeptQuery {
		return classifyBytes(sql)
	}
	if !s.haveLast || !bytes.Equal(sql, s.lastQuery) {
		if s.haveLast && s.lastClass.shapeCacheable() && s.lastShape(sql) {
			return s.lastClass // other values in the same statement (classify_shape.go)
		}
		s.lastQuery = append(s.lastQuery[:0], sql...)
		s.lastClass, s.haveLast = classifyBytes(s.lastQuery), true
		s.lastStrings = s.lastStrings[:0]
		if s.lastClass.shapeCacheable() {
			s.lastStrings = stringSpans(s.lastQuery, s.lastStrings)
		}
	}
	return s.lastClass
}

// lastShape reports whether sql has the shape of the last text (sameShape,
// and sameShapeStrings where that held string literals).
func (s *session) lastShape(sql []byte) bool {
	if len(s.lastStrings) == 0 {
		return sameShape(sql, s.lastQuery)
	}
	return sameShapeStrings(s.lastQuery, sql, s.lastStrings)
}

// classifyBytes classifies sql in place: what the class keeps of the
// text is copied.
func classifyBytes(sql []byte) sqlClass {
	return classify(unsafe.String(unsafe.SliceData(sql), len(sql))).detach()
}

// pipeStmt reports whether the statement a Bind or Describe names is a
// pipe statement: the unnamed one only when parsed in the same unit.
func (s *session) pipeStmt(name []byte, parsed bool) bool {
	if len(name) == 0 {
		return parsed
	}
	info, ok := s.stmts[string(name)]
	return ok && info.class.pipe
}
