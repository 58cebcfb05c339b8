package proxy

// Noticing a client that leaves while its session waits for the backend.
// While a statement runs, the session's goroutine relays the reply and
// nothing reads the client socket, so a client that disconnects would
// leave its statement running to completion. The protocol front end
// tells the session how to look at its client (WatchClient) and arms the
// watch around each reply it relays (ArmWatch, StopWatch): two atomic
// stores and no timer per statement. The server's watch loop ticks over
// the sessions and, for a reply awaited for WatchAfter, starts a watcher
// goroutine that reads the client. A disconnect calls the front end's
// gone function (cancel or kill the statement); input from the client (a
// pipelined message) ends the watcher, and the input waits for the reply
// to be relayed.

import (
	"errors"
	"os"
	"sync/atomic"
	"time"
)

// WatchAfter is about how long a reply is awaited before the proxy
// watches for its client leaving (between WatchAfter and
// WatchAfter+watchTick).
const WatchAfter = time.Second

// watchTick is the watch loop's period.
const watchTick = WatchAfter / 4

// Watch states of a session.
const (
	watchOff   uint32 = iota // no reply awaited
	watchArmed               // a reply is awaited, unwatched
	watchPeer                // a watcher goroutine reads the client socket
)

// clientWatch is a session's watch state, shared with the watch loop.
type clientWatch struct {
	state atomic.Uint32
	since atomic.Uint64 // watch-loop tick at which the reply was awaited
	// done is closed by the watcher. The loop sets it before moving
	// state to watchPeer; the session reads it only after seeing that.
	done   chan struct{}
	client ClientWatcher // see WatchClient
}

// ClientWatcher is how a front end looks at its client while a reply is
// awaited (Session.WatchClient).
type ClientWatcher interface {
	// PeekClient blocks until the client sends something (nil) or its
	// read fails.
	PeekClient() error
	// ClientGone is called when PeekClient failed other than by
	// StopWatch: the client left.
	ClientGone()
}

// WatchClient sets how the session's client is watched while a reply is
// awaited. Call it before the first ArmWatch.
func (s *Session) WatchClient(w ClientWatcher) { s.watch.client = w }

// ArmWatch arms the watch for the reply about to be awaited.
func (s *Session) ArmWatch() {
	s.watch.since.Store(s.srv.ticks.Load())
	s.watch.state.Store(watchArmed)
}

// StopWatch disarms the watch; it must be called before the front end
// reads its client again. A running watcher's read is interrupted and
// awaited.
func (s *Session) StopWatch() {
	w := &s.watch
	switch w.state.Load() {
	case watchOff:
		return
	case watchArmed:
		if w.state.CompareAndSwap(watchArmed, watchOff) {
			return
		}
	}
	_ = s.raw.SetReadDeadline(time.Now())
	<-w.done
	_ = s.raw.SetReadDeadline(time.Time{})
	w.state.Store(watchOff)
}

// peerWatch waits for input or a disconnect from the client.
func (s *Session) peerWatch(done chan struct{}) {
	defer close(done)
	err := s.watch.client.PeekClient()
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return // pipelined input, or stopped
	}
	s.watch.client.ClientGone()
}

// watchTick starts a watcher for a reply awaited for WatchAfter.
func (s *Session) watchTick(now uint64) {
	w := &s.watch
	if w.state.Load() != watchArmed || now-w.since.Load() < uint64(WatchAfter/watchTick) {
		return
	}
	w.done = make(chan struct{})
	if w.state.CompareAndSwap(watchArmed, watchPeer) {
		go s.peerWatch(w.done)
	}
}

// watchLoop ticks every watchTick over the sessions until done is closed.
func (s *Server) watchLoop(done <-chan struct{}) {
	t := time.NewTicker(watchTick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		now := s.ticks.Add(1)
		s.mu.Lock()
		for sess := range s.sessions {
			sess.watchTick(now)
		}
		s.mu.Unlock()
	}
}
