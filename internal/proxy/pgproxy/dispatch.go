package pgproxy

// The backend-driven dispatcher. Each backend connection has one reader
// goroutine for its whole life (serve), which runs the relay of whichever
// session holds the connection. A session that needs a backend while
// none is idle does not block: it leaves itself in the pool's FIFO
// (proxy.Pool.Enqueue), keeps the client frames it reads meanwhile in its
// backlog, and goes back to reading its client. When a relay sees its
// transaction end (ReadyForQuery 'I') it returns the connection to the
// pool, which calls the next waiter's Ready on the relay's own goroutine:
// Ready runs that session's backlog through the usual message handling,
// which writes the query to the backend at once, and the same goroutine
// then relays the reply. A transaction thus costs no goroutine start, no
// channel hand-off to a waiting client goroutine, and no timer.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// errQueued is returned up through handle when the session was queued
// for a backend; the frame being handled goes to the backlog.
var errQueued = errors.New("queued for a backend connection")

// isQueued reports errQueued; the check runs for every client message,
// nearly always on a nil error or on errQueued itself (never wrapped on
// its way up), which it answers without a call.
func isQueued(err error) bool {
	return err == errQueued || err != nil && errors.Is(err, errQueued)
}

// maxBacklog bounds the client bytes kept while queued; beyond it the
// client goroutine stops reading until the session is served.
const maxBacklog = 64 << 10

// relayJob is a relay for the reader goroutine to run.
type relayJob struct {
	s   *session
	pb  *pooled
	gen uint64 // the borrow it relays (session.endRelay)
}

// start hands a relay to the connection's reader goroutine, starting it
// on first use. When called from that goroutine (a hand-over at the end
// of a transaction) the job waits in the channel until the current relay
// returns.
func (b *backend) start(j relayJob) {
	b.serving.Do(func() { go b.serve() })
	b.jobs <- j
}

// serve runs relays until the connection is closed. A job whose borrow
// is no longer the session's (a pipelined unit withdrawn before any byte
// of it was written, see withdraw) is skipped: its unit is retried
// elsewhere, and this connection owes its client nothing.
func (b *backend) serve() {
	for j := range b.jobs {
		if !j.s.holds(j) {
			j.s.endRelay(j.gen)
			continue
		}
		j.s.relay(j.pb, j.gen)
	}
}

// holds reports whether the job's borrow is still the session's. Only a
// withdraw ends a borrow before its relay ran; a later borrow of the
// same session (the withdrawn unit's retry) has another generation.
func (s *session) holds(j relayJob) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.be == j.pb && s.relayGen == j.gen
}

// endRelay records that the relay of borrow gen returned, and wakes
// cleanup if it waits for it. No channel is made per borrow: only a
// session that ends while its relay runs waits for one.
func (s *session) endRelay(gen uint64) {
	s.mu.Lock()
	if gen == s.relayGen {
		s.relayLive = false
	}
	if s.relayWait != nil && gen == s.relayWaitGen {
		close(s.relayWait)
		s.relayWait = nil
	}
	s.mu.Unlock()
}

// closedChan is a channel closed from the start.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// relayEndLocked returns a channel closed once the relay of borrow gen
// has returned (closed already if it has); s.mu is held.
func (s *session) relayEndLocked(gen uint64) chan struct{} {
	if gen != s.relayGen || !s.relayLive {
		return closedChan
	}
	if s.relayWait == nil {
		s.relayWait, s.relayWaitGen = make(chan struct{}), gen
	}
	return s.relayWait
}

// closeJobs ends the reader goroutine once its relay returns.
func (b *backend) closeJobs() { b.closeOnce.Do(func() { close(b.jobs) }) }

// take handles a client frame, or keeps it in the backlog while the
// session is queued for a backend; s.hmu is held.
func (s *session) take(frame []byte) error {
	s.ps.Counters.BytesIn += uint64(len(frame))
	for (s.queued.Load() || s.piped.Load()) && len(s.backlog) >= maxBacklog {
		s.waitBacklog()
	}
	// Frames wait while queued, while piped, and behind frames kept
	// then that a Ready is about to handle.
	if s.queued.Load() || s.piped.Load() || len(s.backlog) > 0 {
		s.backlog = append(s.backlog, frame...)
		return nil
	}
	err := s.handleCounted(frame)
	if isQueued(err) {
		s.backlog = append(s.backlog, frame...)
		return nil
	}
	return err
}

// waitBacklog waits until the backlog shrinks or the session ends; s.hmu
// is held. The condition is made on first use: most sessions never fill
// their backlog, and an idle one keeps no more than it needs.
func (s *session) waitBacklog() {
	if s.hcond == nil {
		s.hcond = sync.NewCond(&s.hmu)
	}
	s.hcond.Wait()
}

// wakeBacklog wakes the goroutines in waitBacklog; s.hmu is held.
func (s *session) wakeBacklog() {
	if s.hcond != nil {
		s.hcond.Broadcast()
	}
}

// handleCounted is handle, with the query counted only once when the
// frame has to wait for a backend and is handled again later.
func (s *session) handleCounted(frame []byte) error {
	queries := s.ps.Counters.Queries
	err := s.handle(s.ctx, frame)
	if isQueued(err) {
		s.ps.Counters.Queries = queries
	}
	return err
}

// Ready implements proxy.Waiter: the pool hands the session a backend (or
// the error that ended its wait) and the backlog is handled now, on the
// caller's goroutine.
func (s *session) Ready(pb *pooled, err error) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	defer s.wakeBacklog()
	if s.gone {
		if pb != nil {
			s.srv.pool.Put(pb)
		}
		return
	}
	defer s.recoverDispatch()
	s.ps.Busy()
	s.queued.Store(false)
	s.given, s.givenErr = pb, err
	lead := pb != nil && s.canLead()
	ferr := s.runBacklog()
	if g := s.given; g != nil { // nothing in the backlog needed it after all
		s.given = nil
		s.srv.pool.Put(g)
	}
	s.givenErr = nil
	joined := 0
	if ferr == nil && lead && s.leads(pb) {
		joined = s.srv.extendPipeline(pb, s)
	}
	if ferr == nil {
		total := 0
		if joined > 0 {
			if pipeFlushHook != nil {
				pipeFlushHook(pb.Conn)
			}
			total = pb.Conn.bw.Buffered()
		}
		ferr = s.flushAll(false) // one write for every unit of a pipeline
		if ferr != nil && joined > 0 {
			s.srv.pipeWriteFailed(pb, s.members, total-pb.Conn.bw.Buffered())
		}
	}
	if joined > 0 {
		clear(s.members)
		s.members = s.members[:0]
	}
	if ferr != nil {
		s.fail(ferr)
	}
}

// runBacklog handles the kept frames in order, keeping the rest when the
// session has to queue again; s.hmu is held.
func (s *session) runBacklog() error {
	// Not the session's own loop (a take waiting for the backlog to
	// shrink leaves mayInline set): the relay starts at the borrow.
	s.mayInline = false
	buf := s.backlog
	off := 0
	for off < len(buf) {
		n := 1 + int(binary.BigEndian.Uint32(buf[off+1:]))
		err := s.handleCounted(buf[off : off+n])
		if isQueued(err) {
			s.backlog = s.backlog[:copy(s.backlog, buf[off:])]
			return nil
		}
		if err != nil {
			s.backlog = s.backlog[:0]
			return err
		}
		off += n
	}
	if cap(s.backlog) > 4<<10 {
		s.backlog = nil // an idle session keeps no large buffer
	} else {
		s.backlog = s.backlog[:0]
	}
	return nil
}

// fail ends the session from outside the client goroutine: the error is
// kept for it and its pending read is woken.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.failErr == nil {
		s.failErr = err
	}
	s.mu.Unlock()
	s.failSet.Store(true)
	_ = s.ps.Conn.SetReadDeadline(time.Now())
}

// failed returns the error a dispatch ended the session with.
func (s *session) failed() error {
	if !s.failSet.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failErr
}

// recoverDispatch turns a panic while handling the backlog on another
// goroutine into the end of this session only, like a panic on the
// session's own goroutine: the backend it may hold is closed.
func (s *session) recoverDispatch() {
	v := recover()
	if v == nil {
		return
	}
	s.srv.core.CountError("panic")
	s.ps.Log().Error("session panic", "panic", v, "stack", string(debug.Stack()))
	if g := s.given; g != nil {
		s.given = nil
		s.srv.pool.Discard(g)
	}
	s.mu.Lock()
	pb := s.be
	s.mu.Unlock()
	if pb != nil {
		pb.Conn.broken.Store(true)
		_ = pb.Conn.conn.Close() // its relay fails and discards it
	}
	s.fail(fatal("XX000", "internal error in the proxy", fmt.Errorf("session panic: %v", v)))
}

// dequeue leaves the pool's queue when the session ends; a Ready already
// under way finds gone set and returns the connection. s.hmu is held.
func (s *session) dequeue() {
	s.gone = true
	if s.queued.Load() {
		s.srv.pool.Cancel(s.login, s)
		s.queued.Store(false)
	}
	s.backlog = nil
	s.wakeBacklog()
}

// get takes the backend a Ready handed over (handed), or borrows: an idle
// one at once, else the session queues (errQueued) or, when a new
// connection may be opened, waits in pool.Get.
func (s *session) get() (pb *pooled, handed bool, err error) {
	if pb := s.given; pb != nil {
		s.given = nil
		return pb, true, nil
	}
	if err := s.givenErr; err != nil {
		s.givenErr = nil
		return nil, false, err
	}
	pb, queued, err := s.srv.pool.Enqueue(s.login, s)
	if pb != nil || err != nil {
		return pb, false, err
	}
	if queued {
		s.queued.Store(true)
		return nil, false, errQueued
	}
	pb, err = s.srv.pool.Get(s.ctx, s.login)
	return pb, false, err
}
