package pgproxy

// Noticing a client that leaves while its session's own goroutine relays
// a reply (inline.go): nothing else reads the client socket then. The
// relay arms the watch with atomic stores and no timer; one janitor
// goroutine per proxy ticks over the sessions and, for a reply awaited
// for watchAfter, starts a watcher goroutine that reads the client. A
// disconnect sends the CancelRequest for the running statement, and the
// session ends once its reply is in (cleanup: exactly one ROLLBACK if a
// transaction is open). Input from the client (a pipelined message) ends
// the watcher; the message waits for the reply to be relayed.

import (
	"errors"
	"os"
	"sync/atomic"
	"time"
)

// watchAfter is about how long a reply is awaited before the proxy
// watches for its client leaving (between watchAfter and
// watchAfter+watchTick).
const watchAfter = time.Second

// watchTick is the janitor's period.
const watchTick = watchAfter / 4

// Watch states of a session.
const (
	watchOff   uint32 = iota // no reply relayed by the session goroutine
	watchArmed               // a reply is relayed by the session goroutine
	watchPeer                // a watcher goroutine reads the client socket
)

// stmtWatch is a session's watch state, shared with the janitor.
type stmtWatch struct {
	state atomic.Uint32
	since atomic.Uint64 // janitor tick at which the relay started
	// done is closed by the watcher. The janitor sets it before moving
	// state to watchPeer; the session reads it only after seeing that.
	done chan struct{}
}

// armWatch arms the watch for the reply about to be relayed.
func (s *session) armWatch() {
	s.watch.since.Store(s.srv.ticks.Load())
	s.watch.state.Store(watchArmed)
}

// stopWatch disarms the watch; it must be called before the session
// reads its client again. A running watcher's read is interrupted and
// awaited.
func (s *session) stopWatch() {
	w := &s.watch
	switch w.state.Load() {
	case watchOff:
		return
	case watchArmed:
		if w.state.CompareAndSwap(watchArmed, watchOff) {
			return
		}
	}
	_ = s.ps.Conn.SetReadDeadline(time.Now())
	<-w.done
	_ = s.ps.Conn.SetReadDeadline(time.Time{})
	w.state.Store(watchOff)
}

// peerWatch waits for input or a disconnect from the client; on a
// disconnect the running statement is cancelled.
func (s *session) peerWatch(done chan struct{}) {
	defer close(done)
	_, err := s.cr.br.Peek(1)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return // pipelined input, or stopped
	}
	s.srv.core.CountError("client_lost")
	s.cancelQuery()
}

// watchLoop is the janitor: every watchTick it starts a watcher for each
// reply awaited for watchAfter, until stop is closed.
func (s *Server) watchLoop(stop <-chan struct{}) {
	t := time.NewTicker(watchTick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := s.ticks.Add(1)
		s.mu.Lock()
		for _, sess := range s.sessions {
			sess.watchTick(now)
		}
		s.mu.Unlock()
	}
}

// watchTick starts a watcher for a reply awaited for watchAfter.
func (s *session) watchTick(now uint64) {
	w := &s.watch
	if w.state.Load() != watchArmed || now-w.since.Load() < uint64(watchAfter/watchTick) {
		return
	}
	w.done = make(chan struct{})
	if w.state.CompareAndSwap(watchArmed, watchPeer) {
		go s.peerWatch(w.done)
	}
}
