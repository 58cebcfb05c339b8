package pgproxy

import (
	"context"
	"errors"
	"os"
	"time"
	"unsafe"
)

// entry is a request awaiting its reply from the backend, in order.
type entry struct {
	kind byte   // client message type: P B D E C S Q F
	drop bool   // injected by the proxy: swallow its reply ('Q': all of it)
	stmt string // P: shared statement name; C: evicted name
	// synth is a reply the proxy generates, emitted when the entry
	// reaches the head of the queue; nothing is sent to the backend.
	synth   []byte
	capture []string // drop Q: tracked parameters read by this query
	// resets is the session's reset count when the capture was sent: a
	// RESET ALL / DISCARD ALL queued after it makes its values stale.
	resets uint64
	// captured is set once the read-back row arrived; a capture popped
	// without it (error, cancel) leaves the values unknown.
	captured bool
}

// queue is a FIFO of entries.
type queue struct {
	items []entry
	head  int
}

func (q *queue) len() int { return len(q.items) - q.head }

func (q *queue) push(e entry) { q.items = append(q.items, e) }

func (q *queue) peek() *entry {
	if q.head == len(q.items) {
		return nil
	}
	return &q.items[q.head]
}

func (q *queue) pop() entry {
	e := q.items[q.head]
	q.items[q.head] = entry{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return e
}

type relayAction int

const (
	relayContinue relayAction = iota
	relayRelease
	relayHandoff
	relayCapture
	// relayPipeKept: a pipelined unit left the backend in a transaction
	// (or pinned its session).
	relayPipeKept
)

// testHookAfterReply, when set (tests only, before any session starts),
// runs between a transaction's last reply and the Put of its connection.
var testHookAfterReply func()

// testHookCapture, when set (tests only, before any session starts), runs
// in the backend reader's relay in place of sendCapture, with send to
// call it.
var testHookCapture func(b *backend, send func())

// relay copies backend frames to the client while pb is held, keeping the
// reply queue, and returns pb to the pool at the end of the transaction.
func (s *session) relay(pb *pooled, gen uint64) {
	defer s.endRelay(gen)
	b := pb.Conn
	for {
		frame, err := b.next()
		if err != nil {
			s.relayFailed(pb, err)
			return
		}
		s.mu.Lock()
		act := relayContinue
		for {
			act = s.onFrame(b, frame)
			if act != relayContinue || !b.r.buffered() {
				break
			}
			if frame, err = b.next(); err != nil {
				s.flushSpan()
				s.mu.Unlock()
				s.relayFailed(pb, err)
				return
			}
		}
		s.flushSpan()
		// Flush when the transaction ends or the backend has nothing more
		// buffered; the write happens after mu is released.
		flush := act != relayContinue || b.r.br.Buffered() == 0
		if flush {
			s.cwmu.Lock()
		}
		switch act {
		case relayRelease:
			s.be = nil
			s.ps.Counters.BytesOut += s.outBytes
			s.outBytes = 0
			if s.piped.Load() {
				// Its frames went out with the pipeline's flush; the
				// connection goes on to the next unit, or back.
				s.mu.Unlock()
				s.flushClient(flush)
				s.pipeDone(pb)
				return
			}
			wait := s.cancelDone
			if s.cancels == 0 {
				wait = nil
			}
			if s.writing {
				// The client goroutine is about to flush frames to b (ones
				// that expect no reply); it puts b back afterwards.
				s.pending, s.pendingWait = pb, wait
				s.mu.Unlock()
				s.flushClient(flush)
				return
			}
			s.mu.Unlock()
			// The user's share of connections is free before its client
			// has the reply: its next statement may come first.
			pb.FreeShare()
			if wait != nil {
				s.flushClient(flush)
				s.putBackend(pb, wait)
				return
			}
			// This client's reply goes out first: the Put may run the next
			// queued session's Ready on this goroutine (even this
			// session's own next message, which needs cwmu), and that may
			// take a round trip to bring the backend to its session.
			s.flushClient(flush)
			if testHookAfterReply != nil {
				testHookAfterReply()
			}
			_ = s.ps.WaitIdle() // before the Put: it may hand this session its next backend
			s.srv.handBack(pb)
			return
		case relayHandoff:
			if s.piped.Load() && b.chained.Load() > 0 && s.status == 'I' {
				// The client left; its reply has been read and the
				// connection goes on to the next unit, which owns it
				// now: cleanup finds nothing to settle.
				s.be = nil
				s.mu.Unlock()
				s.flushClient(flush)
				b.chained.Add(-1)
				return
			}
			if s.piped.Load() && b.chained.Load() > 0 {
				s.mu.Unlock()
				s.flushClient(flush)
				s.pipeBroke(pb)
				return
			}
			s.handedOff = true
			s.mu.Unlock()
			s.flushClient(flush)
			return
		case relayCapture:
			s.mu.Unlock()
			s.flushClient(flush)
			if h := testHookCapture; h != nil {
				h(b, func() { s.sendCapture(b) })
			} else {
				s.sendCapture(b)
			}
			continue
		case relayPipeKept:
			s.mu.Unlock()
			s.flushClient(flush)
			if b.chained.Load() > 0 {
				s.pipeBroke(pb)
				return
			}
			s.unpipe() // the last unit: the connection stays this session's
			continue
		}
		idle := s.pinned && s.status == 'I' && s.q.len() == 0
		s.mu.Unlock()
		s.flushClient(flush)
		if idle {
			_ = s.ps.WaitIdle()
		}
	}
}

// flushClient flushes the client writer and releases cwmu when locked.
func (s *session) flushClient(locked bool) {
	if !locked {
		return
	}
	_ = s.flushCW()
	s.cwmu.Unlock()
}

// onFrame handles one backend frame; s.mu is held.
func (s *session) onFrame(b *backend, frame []byte) relayAction {
	t := frame[0]
	head := s.q.peek()
	forward := head == nil || !(head.drop && head.kind == 'Q')
	switch t {
	case 'Z':
		if len(frame) >= 6 {
			s.status = frame[5]
		}
		for s.q.len() > 0 {
			e := s.q.pop()
			if e.capture != nil && !e.captured {
				b.forget(e.capture)
			}
			if e.kind == 'S' || e.kind == 'Q' || e.kind == 'F' {
				forward = !e.drop
				break
			}
		}
	case 'E':
		if head != nil && head.kind != 'Q' && head.kind != 'F' {
			s.skipAfterError(b)
		}
	case '1':
		if head != nil && head.kind == 'P' {
			forward = forward && !s.q.pop().drop
		}
	case '2':
		if head != nil && head.kind == 'B' {
			s.q.pop()
		}
	case '3':
		if head != nil && head.kind == 'C' {
			forward = forward && !s.q.pop().drop
		}
	case 'T', 'n':
		if head != nil && head.kind == 'D' {
			s.q.pop()
		}
	case 'C', 'I', 's':
		if head != nil && head.kind == 'E' {
			s.q.pop()
		}
	case 'S':
		s.trackStatus(b, frame[5:])
	case 'D':
		if head != nil && head.capture != nil && !head.captured {
			head.captured = true
			if head.resets == s.resets {
				s.applyCapture(b, head.capture, decodeDataRow(frame[5:]))
			}
		}
	}
	if forward {
		s.passOn(frame)
		s.outBytes += uint64(len(frame))
	}
	for e := s.q.peek(); e != nil && e.synth != nil; e = s.q.peek() {
		s.flushSpan()
		s.writeLocked(s.q.pop().synth)
	}
	if t != 'Z' || s.q.len() > 0 {
		return relayContinue
	}
	switch {
	case s.closing:
		return relayHandoff
	case s.piped.Load() && (s.pinned || s.status != 'I'):
		return relayPipeKept
	case s.pinned || s.status != 'I':
		return relayContinue
	case len(s.capture) > 0:
		return relayCapture
	}
	return relayRelease
}

// passOn forwards a backend frame to the client. Frames that follow each
// other in the backend's read buffer (a reply's RowDescription, DataRows,
// CommandComplete and ReadyForQuery, read in one go) are collected as
// one span and written with one call when the span ends (flushSpan),
// instead of one buffered write and one lock of the client writer each.
// s.mu is held.
func (s *session) passOn(frame []byte) {
	if len(frame) == 0 {
		return
	}
	if n := len(s.span); n > 0 && &frame[0] == (*byte)(unsafe.Add(unsafe.Pointer(&s.span[0]), n)) {
		s.span = unsafe.Slice(&s.span[0], n+len(frame))
		return
	}
	s.flushSpan()
	s.span = frame
}

// flushSpan writes the frames passOn collected. It runs before anything
// else is written to the client and before the read buffer the span lies
// in is read again; s.mu is held.
func (s *session) flushSpan() {
	if len(s.span) > 0 {
		s.writeLocked(s.span)
		s.span = nil
	}
}

// skipAfterError drops the entries the server skips after an error in the
// extended protocol (up to the next Sync), fixing the statement cache.
func (s *session) skipAfterError(b *backend) {
	for e := s.q.peek(); e != nil && e.kind != 'S'; e = s.q.peek() {
		popped := s.q.pop()
		switch {
		case popped.kind == 'P' && popped.stmt != "":
			b.stmts.remove(popped.stmt)
		case popped.kind == 'C' && popped.drop:
			b.stmts.add(popped.stmt) // the eviction did not happen
		}
	}
}

// sendCapture queries the tracked parameters the transaction changed, so
// the next backend gets the values the client now has. The query drops
// the server's unnamed statement: a Bind of it the client sends later
// parses it again (b.wmu orders this against the client's messages). The
// client has its reply already and may have sent more: when any of it
// went to the backend (a Bind whose Execute is still to come, a COPY, a
// whole unit), the query waits for the end of that unit, the next
// ReadyForQuery that leaves nothing owed — a simple query in the middle
// of an extended-protocol unit would drop its unnamed portal, and during
// a COPY it would abort it.
func (s *session) sendCapture(b *backend) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if !b.idle() {
		return // onFrame answers relayCapture again at that unit's end
	}
	s.mu.Lock()
	s.unnamedOK = false
	names := make([]string, 0, len(s.capture))
	for k := range s.capture {
		names = append(names, k)
	}
	clear(s.capture)
	s.q.push(entry{kind: 'Q', drop: true, capture: names, resets: s.resets})
	s.mu.Unlock()
	if b.write(appendFrame(nil, 'Q', []byte(captureSQL(names)), []byte{0})) == nil {
		_ = b.flush()
	}
}

// relayFailed handles a backend read error: the hand-off wake-up while
// closing, or a lost backend.
func (s *session) relayFailed(pb *pooled, err error) {
	b := pb.Conn
	s.mu.Lock()
	if s.closing && errors.Is(err, os.ErrDeadlineExceeded) && !b.r.torn {
		// The cleanup's wake-up; it settles whatever is still owed.
		s.handedOff = true
		s.mu.Unlock()
		return
	}
	b.broken.Store(true)
	lost := !s.closing
	s.be = nil
	if lost {
		s.cwmu.Lock()
		// Not "aborted": a COMMIT (or an autocommit statement) in flight
		// may have committed before the server went away — on a
		// synchronous replica that is now the writer, too.
		s.writeCW(fatal("08006", "server connection lost: an open transaction was rolled back; a statement or COMMIT in flight may have committed", err).encode())
		_ = s.flushCW()
		s.cwmu.Unlock()
	}
	s.mu.Unlock()
	if lost {
		s.srv.core.CountError("backend_lost")
		_ = s.ps.Conn.Close() // wake the client goroutine
	}
	b.wmu.Lock()
	if b.chained.Load() > 0 {
		// Pipelined units are behind this one: their relays fail too, and
		// the last one returns the connection's slot.
		b.chained.Add(-1)
		_ = b.conn.Close()
	} else {
		s.srv.pool.Discard(pb)
	}
	b.wmu.Unlock()
}

// pipeBroke ends a pipelined session whose unit left its backend in a
// transaction with other clients' units behind it: the connection is
// closed, so they get connection errors, and so does this client.
func (s *session) pipeBroke(pb *pooled) {
	pb.Conn.broken.Store(true)
	_ = pb.Conn.conn.Close()
	s.srv.core.CountError("pipeline_state")
	s.relayFailed(pb, errPipelineState)
}

// cleanup returns the held backend when the session ends: cancel the
// client's running query, stop the relay, then settle the backend (drain
// every reply still owed, to the client or to the proxy's own requests,
// and roll back an open transaction: exactly one ROLLBACK), reset a
// pinned session, and put the connection back — or close it when any
// step fails.
func (s *session) cleanup() {
	s.hmu.Lock()
	s.dequeue()
	s.hmu.Unlock()
	s.startDeferred()
	_ = s.flushBackend(false) // frames a Terminate cut short; puts a pending backend
	s.mu.Lock()
	pb, gen := s.be, s.relayGen
	if pb == nil {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	b := pb.Conn
	b.wmu.Lock()
	s.mu.Lock()
	if s.be != pb { // released by the relay meanwhile: another client may hold it now
		s.mu.Unlock()
		b.wmu.Unlock()
		return
	}
	s.closing = true
	done := s.relayEndLocked(gen)
	s.endLocked(b)
	busy := s.clientWaiting()
	// A pipelined session's unit may not be the one the server runs, and
	// the backend's reader may be relaying another client's reply: no
	// cancel, no wake-up; its relay settles it in turn.
	piped := s.piped.Load()
	if !busy && !piped {
		_ = b.conn.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	_ = b.flush()
	b.wmu.Unlock()
	if busy && !piped {
		s.srv.core.CountError("client_lost")
		ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		_ = pb.Conn.cancel(ctx)
		cancel()
	}
	select {
	case <-done:
	case <-time.After(2 * cancelTimeout):
		_ = pb.Conn.conn.Close()
		<-done
	}
	s.mu.Lock()
	handed, pinned := s.handedOff, s.pinned
	s.be = nil
	s.ps.Counters.BytesOut += s.outBytes
	var lost []string
	unsure := false
	if handed {
		lost, unsure = s.lostCaptures()
	}
	s.mu.Unlock()
	if !handed {
		return // the relay discarded it
	}
	b.forget(lost)
	_ = b.conn.SetReadDeadline(time.Time{})
	s.srv.giveBack(pb, pinned || unsure)
}

// endLocked lets the relay reach a ReadyForQuery after the client left
// mid-way: a COPY IN is failed and extended-protocol messages without
// their Sync get one (its reply dropped). s.mu and b.wmu are held; the
// caller flushes.
func (s *session) endLocked(b *backend) {
	if b.copyIn.Load() {
		_ = b.write(appendFrame(nil, 'f', []byte("client disconnected"), []byte{0}))
	}
	if b.unsynced.Load() {
		s.q.push(entry{kind: 'S', drop: true})
		_ = b.write([]byte{'S', 0, 0, 0, 4})
	}
}

// clientWaiting reports whether a reply to the client is still owed (the
// proxy's own requests need no cancel); s.mu is held.
func (s *session) clientWaiting() bool {
	for i := s.q.head; i < len(s.q.items); i++ {
		if !s.q.items[i].drop {
			return true
		}
	}
	return false
}

// lostCaptures empties the queue after the relay stopped and returns the
// tracked parameters whose read-back will not reach the session any more
// (marked for capture, or captures still queued), and whether a shared
// statement's Parse or eviction was left unanswered, so that the
// backend's statement cache cannot be trusted; s.mu is held.
func (s *session) lostCaptures() (names []string, unsure bool) {
	for n := range s.capture {
		names = append(names, n)
	}
	for e := s.q.peek(); e != nil; e = s.q.peek() {
		p := s.q.pop()
		if p.capture != nil && !p.captured {
			names = append(names, p.capture...)
		}
		if p.kind == 'P' && p.stmt != "" || p.kind == 'C' && p.drop {
			unsure = true
		}
	}
	return names, unsure
}

// giveBack settles a backend no relay reads any more and returns it to
// the pool, after DISCARD ALL when its session was pinned or it ran what
// the proxy cannot vouch for; any failure closes it instead.
func (s *Server) giveBack(pb *pooled, reset bool) {
	b := pb.Conn
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := b.settle(ctx); err != nil {
		s.pool.Discard(pb)
		return
	}
	if reset {
		if err := b.reset(ctx); err != nil {
			s.pool.Discard(pb)
			return
		}
	}
	s.pool.Put(pb)
}

// PeekClient waits for the client's next byte (proxy.Session.WatchClient).
func (s *session) PeekClient() error {
	_, err := s.cr.br.Peek(1)
	return err
}

// ClientGone cancels the running statement of a client that left while
// its reply was awaited.
func (s *session) ClientGone() {
	s.srv.core.CountError("client_lost")
	s.cancelQuery()
}

// cancelQuery forwards a client's CancelRequest to the backend it holds,
// if a query is running; the backend is not released to another client
// until the request has been delivered.
func (s *session) cancelQuery() {
	s.mu.Lock()
	pb := s.be
	if pb == nil || !s.clientWaiting() || s.piped.Load() {
		s.mu.Unlock()
		return
	}
	if s.cancels == 0 {
		s.cancelDone = make(chan struct{})
	}
	s.cancels++
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
	_ = pb.Conn.cancel(ctx)
	cancel()
	s.mu.Lock()
	if s.cancels--; s.cancels == 0 {
		close(s.cancelDone)
	}
	s.mu.Unlock()
}
