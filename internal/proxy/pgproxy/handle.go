package pgproxy

// Client message handling: https://www.postgresql.org/docs/current/protocol-message-formats.html.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// handle processes one client frame.
func (s *session) handle(ctx context.Context, frame []byte) error {
	t, body := frame[0], frame[5:]
	if s.skipToSync {
		if t == 'S' {
			s.skipToSync = false
			s.localReply(readyForQuery('I'))
		}
		return nil
	}
	switch t {
	case 'X':
		return errTerminate
	case 'Q':
		return s.handleQuery(ctx, frame, body)
	case 'P':
		return s.handleParse(ctx, frame, body)
	case 'B':
		return s.handleBind(ctx, frame, body)
	case 'D':
		return s.handleDescribe(ctx, frame, body)
	case 'C':
		return s.handleClose(ctx, frame, body)
	case 'E':
		return s.forward(ctx, t, func(*backend) { s.add(entry{kind: 'E'}, frame) }, nil)
	case 'S':
		s.ps.Counters.Queries++
		return s.forward(ctx, t, func(*backend) { s.add(entry{kind: 'S'}, frame) },
			func() { s.replyLocked(readyForQuery('I')) })
	case 'F':
		s.ps.Counters.Queries++
		return s.forward(ctx, t, func(*backend) { s.add(entry{kind: 'F'}, frame) }, nil)
	case 'H', 'd', 'c', 'f':
		// Without a backend there is nothing to flush, and stray COPY
		// data is ignored as the server does.
		return s.forward(ctx, t, func(*backend) { s.add(entry{}, frame) }, func() {})
	default:
		return fatal("08P01", fmt.Sprintf("invalid frontend message type %d", t), nil)
	}
}

func (s *session) holding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.be != nil
}

func (s *session) handleQuery(ctx context.Context, frame, body []byte) error {
	sqlb, _, ok := cstring(body)
	if !ok {
		return fatal("08P01", "invalid Query message", nil)
	}
	s.ps.Counters.Queries++
	c := s.classifyQuery(sqlb)
	sql := ""
	if c.pin != "" { // the digest the pin is logged with
		sql = string(sqlb)
	}
	if c.deallocate != "" && !s.holding() {
		if _, ok := s.stmts[c.deallocate]; ok { // a protocol-level statement: ours to drop
			delete(s.stmts, c.deallocate)
			s.localReply(commandComplete("DEALLOCATE"), readyForQuery('I'))
			return nil
		}
	}
	if c.deallocAll {
		clear(s.stmts)
	}
	s.lastUnnamed, s.lastUnnamedInfo = nil, nil
	return s.forward(ctx, 'Q', func(b *backend) {
		s.applyClass(c, b, sql, true)
		s.unnamedOK = false
		s.add(entry{kind: 'Q'}, frame)
	}, nil)
}

// applyClass pins or marks tracked parameters; run: the statement runs
// on b now (a Query or Bind, not a Parse or Describe), which is when
// RESET ALL, DISCARD ALL and DEALLOCATE ALL take effect. s.mu is held.
func (s *session) applyClass(c sqlClass, b *backend, sql string, run bool) {
	if c.pin != "" && !s.pinned {
		s.pinned = true
		s.ps.Pin(c.pin, digest(sql), s.be.ID)
	}
	if c.dirty != "" {
		s.dirtied(b)
	}
	for _, name := range c.track {
		s.captureParam(name)
	}
	if c.resetAll && run {
		s.resets++
		s.params = cloneMap(s.startupParams)
		s.paramsID = s.srv.paramSets.id(s.params)
		clear(b.params)
		b.paramsID = 0
		for k := range s.startupParams {
			s.captureParam(k)
		}
	}
	if c.deallocAll && run {
		b.stmts.clear()
	}
}

// dirtied marks b as running what the proxy cannot see into (a function
// call), and the client's tracked parameters for a read-back once the
// transaction ends: the function may have set them, and a later borrow
// must replay the new values, not the ones the client set before. The
// parameters the server reports (ParameterStatus) are followed anyway.
// s.mu is held.
func (s *session) dirtied(b *backend) {
	b.dirty = true
	for name := range s.params {
		if !reportedParams[name] {
			s.captureParam(name)
		}
	}
}

func digest(sql string) string {
	if len(sql) > 200 {
		return sql[:200] + "…"
	}
	return sql
}

func (s *session) handleParse(ctx context.Context, frame, body []byte) error {
	name, rest, ok := cstring(body)
	if !ok {
		return fatal("08P01", "invalid Parse message", nil)
	}
	if _, _, ok := cstring(rest); !ok {
		return fatal("08P01", "invalid Parse message", nil)
	}
	if len(name) == 0 {
		// A client that parses the same unnamed statement every time
		// (most drivers' default) finds it without the shared registry.
		info := s.lastUnnamedInfo
		if info == nil || !bytes.Equal(body, s.lastUnnamed) {
			info = s.srv.stmts.get(rest)
			s.lastUnnamed = append(s.lastUnnamed[:0], body...)
			s.lastUnnamedInfo = info
		}
		return s.forward(ctx, 'P', func(b *backend) {
			s.applyClass(info.class, b, info.query, false)
			s.unnamedOK = true
			s.add(entry{kind: 'P'}, frame)
		}, nil)
	}
	info := s.srv.stmts.get(rest)
	if s.stmts == nil { // most sessions never prepare a named statement
		s.stmts = map[string]*stmtInfo{}
	}
	s.stmts[string(name)] = info
	var local func()
	if info.class.pin == "" && len(info.class.track) == 0 {
		local = func() { s.replyLocked(msgParseComplete) } // prepared lazily on first use
	}
	return s.forward(ctx, 'P', func(b *backend) {
		s.applyClass(info.class, b, info.query, false)
		if b.stmts.has(info.name) {
			s.replyLocked(msgParseComplete)
			return
		}
		s.prepare(b, info, false)
	}, local)
}

// prepare sends a Parse of info's shared name, evicting the least recently
// used statement when the backend's cache is full. injected: the client
// did not ask for it, so its ParseComplete is swallowed. s.mu is held.
func (s *session) prepare(b *backend, info *stmtInfo, injected bool) {
	if victim := b.stmts.add(info.name); victim != "" {
		s.add(entry{kind: 'C', drop: true, stmt: victim}, s.frame('C', []byte{'S'}, []byte(victim), []byte{0}))
	}
	s.add(entry{kind: 'P', drop: injected, stmt: info.name},
		s.frame('P', []byte(info.name), []byte{0}, []byte(info.query), []byte{0}, info.types))
}

// ensure makes sure the statement behind client name is on b, and
// applies its class there: run (a Bind) is when it takes effect, and the
// client's Parse may have gone to another backend. s.mu is held.
func (s *session) ensure(b *backend, name []byte, run bool) (server []byte) {
	if len(name) == 0 {
		if s.lastUnnamed == nil {
			return name
		}
		if !s.unnamedOK {
			s.add(entry{kind: 'P', drop: true}, s.frame('P', s.lastUnnamed))
			s.unnamedOK = true
		}
		if info := s.lastUnnamedInfo; info != nil {
			s.applyClass(info.class, b, info.query, run)
		}
		return name
	}
	info, ok := s.stmts[string(name)]
	if !ok {
		return name // unknown to us: the server answers (or it is SQL PREPAREd in a pinned session)
	}
	if !b.stmts.has(info.name) {
		s.prepare(b, info, true)
	}
	s.applyClass(info.class, b, info.query, run)
	return []byte(info.name)
}

func (s *session) handleBind(ctx context.Context, frame, body []byte) error {
	portal, rest, ok := cstring(body)
	if !ok {
		return fatal("08P01", "invalid Bind message", nil)
	}
	stmt, rest, ok := cstring(rest)
	if !ok {
		return fatal("08P01", "invalid Bind message", nil)
	}
	return s.forward(ctx, 'B', func(b *backend) {
		server := s.ensure(b, stmt, true)
		if string(server) == string(stmt) {
			s.add(entry{kind: 'B'}, frame)
			return
		}
		s.add(entry{kind: 'B'}, s.frame('B', portal, []byte{0}, server, []byte{0}, rest))
	}, nil)
}

func (s *session) handleDescribe(ctx context.Context, frame, body []byte) error {
	if len(body) < 2 {
		return fatal("08P01", "invalid Describe message", nil)
	}
	name, _, ok := cstring(body[1:])
	if !ok {
		return fatal("08P01", "invalid Describe message", nil)
	}
	return s.forward(ctx, 'D', func(b *backend) {
		if body[0] != 'S' {
			s.add(entry{kind: 'D'}, frame)
			return
		}
		server := s.ensure(b, name, false)
		s.add(entry{kind: 'D'}, s.frame('D', []byte{'S'}, server, []byte{0}))
	}, nil)
}

func (s *session) handleClose(ctx context.Context, frame, body []byte) error {
	if len(body) < 2 {
		return fatal("08P01", "invalid Close message", nil)
	}
	name, _, ok := cstring(body[1:])
	if !ok {
		return fatal("08P01", "invalid Close message", nil)
	}
	if body[0] == 'S' && len(name) > 0 {
		if _, ok := s.stmts[string(name)]; ok {
			// The shared statement stays on the backends for other clients.
			delete(s.stmts, string(name))
			s.localReply(msgCloseComplete)
			return nil
		}
	}
	// Without a backend there is nothing to close; closing what does not
	// exist is not an error.
	return s.forward(ctx, 'C', func(*backend) { s.add(entry{kind: 'C'}, frame) },
		func() { s.replyLocked(msgCloseComplete) })
}

// frame builds a frame in the session scratch space (valid until the
// message is written).
func (s *session) frame(t byte, parts ...[]byte) []byte {
	start := len(s.scratch)
	s.scratch = appendFrame(s.scratch, t, parts...)
	return s.scratch[start:len(s.scratch):len(s.scratch)]
}

// add queues e (if it expects a reply) and the frame to write; s.mu is held.
func (s *session) add(e entry, frame []byte) {
	if e.kind != 0 {
		s.q.push(e)
	}
	s.out = append(s.out, frame)
}

// forward runs plan with the held backend (borrowing one first) under the
// session lock, then writes the frames plan queued. When no backend is held
// and local is set, local answers instead (under the lock), so that
// nothing is borrowed for a message the proxy can answer itself.
func (s *session) forward(ctx context.Context, t byte, plan func(b *backend), local func()) error {
	for {
		if local != nil {
			s.mu.Lock()
			if s.be == nil {
				local()
				s.mu.Unlock()
				return nil
			}
			s.mu.Unlock()
		}
		pb, err := s.acquire(ctx)
		if isQueued(err) {
			return err
		}
		if err != nil {
			return s.borrowFailed(t, err)
		}
		b := pb.Conn
		b.wmu.Lock()
		s.mu.Lock()
		if s.be != pb {
			s.mu.Unlock()
			b.wmu.Unlock()
			continue // released by the relay in between: borrow again
		}
		s.out, s.scratch = s.out[:0], s.scratch[:0]
		plan(b)
		if len(s.out) > 0 {
			s.writing = true // flushBackend sends them and ends it
		}
		s.mu.Unlock()
		var werr error
		for _, f := range s.out {
			if werr = b.write(f); werr != nil {
				break
			}
		}
		b.wmu.Unlock()
		if werr != nil {
			return s.backendWriteFailed(werr)
		}
		return nil
	}
}

// borrowFailed reports a failed borrow: the statement fails and, in the
// extended protocol, the rest up to Sync is skipped.
func (s *session) borrowFailed(t byte, err error) error {
	var pe *pgError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.Severity == "FATAL" {
		return pe
	}
	switch t {
	case 'Q', 'F':
		s.localReply(pe.encode(), readyForQuery('I'))
	case 'S':
		s.localReply(pe.encode(), readyForQuery('I'))
	default:
		s.localReply(pe.encode())
		s.skipToSync = true
	}
	return nil
}

// acquire returns the held backend or borrows one, replays tracked
// parameters on it and starts its relay (or defers it, inline.go).
func (s *session) acquire(ctx context.Context) (*pooled, error) {
	s.mu.Lock()
	pb, pending := s.be, s.pending != nil
	s.mu.Unlock()
	if pb != nil {
		return pb, nil
	}
	if pending {
		// Released while frames were unflushed: send them and put it back
		// before borrowing (a pool of one would wait for itself).
		if err := s.flushBackend(false); err != nil {
			return nil, err
		}
	}
	pb, err := s.borrow(ctx)
	if err != nil {
		return nil, err
	}
	s.borrows++
	s.ps.Counters.Transactions++
	if s.borrows%64 == 0 {
		s.ps.Flush()
	}
	s.mu.Lock()
	s.be, s.status, s.unnamedOK, s.handedOff = pb, 'I', false, false
	s.relayGen++
	s.relayLive = true
	gen := s.relayGen
	s.mu.Unlock()
	if !s.deferRelay() {
		pb.Conn.start(relayJob{s: s, pb: pb, gen: gen})
	}
	return pb, nil
}

// peekAfter is how long a connection sits idle before a borrow asks the
// socket whether its server has gone (peerGone).
const peekAfter = time.Millisecond

// maxLostIdle bounds the connections one borrow closes as lost while
// idle before it takes one unchecked.
const maxLostIdle = 16

// borrow takes a backend from the pool and brings its session to the
// client's (reset, replay). A backend lost or not reset on the way is
// closed and another one borrowed, a few times.
func (s *session) borrow(ctx context.Context) (*pooled, error) {
	lost := 0
	for attempt := 0; ; attempt++ {
		pb, handed, err := s.get()
		if isQueued(err) {
			return nil, err
		}
		if err != nil {
			return nil, borrowError(err)
		}
		// A connection handed over by the relay that has just read its
		// ReadyForQuery, or back in the pool for less than peekAfter, is
		// not peeked at: a system call per transaction for a server that
		// died within the last millisecond.
		fresh := handed || time.Since(pb.IdleSince()) < peekAfter
		// A unit joining a pipeline does not look at the read buffer: the
		// head's relay may already be reading it on the backend's reader
		// goroutine, and the head looked at it when it borrowed.
		joining := handed && s.piped.Load()
		if lost < maxLostIdle && !joining && (pb.Conn.r.br.Buffered() > 0 || !fresh && peerGone(pb.Conn.conn)) {
			// Lost while idle (its server died): another one, which
			// does not count as an attempt since the pool shrank.
			pb.Conn.broken.Store(true)
			s.srv.pool.Discard(pb)
			attempt--
			lost++
			continue
		}
		err = s.replay(ctx, pb.Conn, pb.ID)
		if err == nil {
			return pb, nil
		}
		if !pb.Conn.Broken() {
			s.srv.pool.Put(pb)
			return nil, err // the client's parameters were refused
		}
		s.srv.pool.Discard(pb)
		if attempt == 2 {
			return nil, err
		}
	}
}

// borrowError maps pool errors to client errors.
func borrowError(err error) error {
	switch {
	case errors.Is(err, proxy.ErrBorrowTimeout):
		return errorf("53300", "timed out waiting for a database connection (borrow_timeout)", err)
	case errors.Is(err, fairshare.ErrLimit):
		return errorf("53300", "too many connections for this user: "+err.Error(), err)
	case errors.Is(err, proxy.ErrNoReader):
		return errorf("08006", "no reader instance is available: none is healthy with replication lag within max_replica_lag", err)
	case errors.Is(err, proxy.ErrBackendDown):
		return errorf("08006", "the database is unavailable", err)
	case errors.Is(err, proxy.ErrPoolClosed):
		return fatal("57P01", "terminating connection due to administrator command", err)
	case errors.Is(err, context.Canceled):
		return fatal("57P01", "terminating connection due to administrator command", err)
	}
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		msg := err.Error()
		if e := errorMessage(err); e != "" {
			msg = e
		}
		return fatal(pe.SQLState(), msg, err)
	}
	return errorf("08006", "could not connect to the database", err)
}

func commandComplete(tag string) []byte { return appendFrame(nil, 'C', []byte(tag), []byte{0}) }

func deadlineIn(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

func asPgError(err error, target **pgconn.PgError) bool { return errors.As(err, target) }

// captureParam marks a tracked parameter to re-read before the backend is
// released; the map is made on first use (most sessions never set one).
func (s *session) captureParam(name string) {
	if s.capture == nil {
		s.capture = map[string]bool{}
	}
	s.capture[name] = true
}
