package mysqlproxy

// Killing the statement of a client that went away: if the client
// disconnects while a long command runs, its statement is killed on the
// backend (then the session ends and rolls back) instead of running to
// completion. Commands arm the watch with two atomic stores and no timer;
// one janitor goroutine per proxy ticks over the sessions and acts only
// on a command that has been running for watchAfter. A reply relayed by
// the session's own goroutine gets a watcher goroutine reading the client
// socket; a reply relayed by the backend's reader (dispatch.go) needs
// none, as the session goroutine reads its client meanwhile and notes a
// failed read (left): the janitor then starts the kill.

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"time"
)

// watchAfter is about how long a command runs before the proxy watches
// for its client leaving (between watchAfter and watchAfter+watchTick).
const watchAfter = time.Second

// watchTick is the janitor's period.
const watchTick = watchAfter / 4

// Watch states of a session.
const (
	watchOff        uint32 = iota // no command running
	watchArmed                    // a command relayed by the session goroutine is running
	watchArmedAsync               // a command relayed by the backend's reader is running
	watchPeer                     // a watcher goroutine is reading the client socket
	watchKill                     // the client left; a kill is running
)

// cmdWatch is a session's watch state, shared with the janitor.
type cmdWatch struct {
	state atomic.Uint32
	since atomic.Uint64 // janitor tick at which the command started
	// done is closed by the watcher or kill. The janitor sets it before
	// moving state to watchPeer or watchKill; the session reads it only
	// after seeing one of those.
	done chan struct{}
}

// startWatch arms the watch for the command about to run; async: its
// reply is relayed by the backend's reader goroutine.
func (c *session) startWatch(async bool) {
	c.watch.since.Store(c.srv.ticks.Load())
	if async {
		c.watch.state.Store(watchArmedAsync)
	} else {
		c.watch.state.Store(watchArmed)
	}
}

// stopWatch disarms the watch at the end of the command; it must be
// called before the session goroutine reads its client again. A running
// watcher's read is interrupted; a watcher or kill is awaited.
func (c *session) stopWatch() {
	w := &c.watch
	switch st := w.state.Load(); {
	case st == watchOff:
		return
	case st == watchArmed || st == watchArmedAsync:
		if w.state.CompareAndSwap(st, watchOff) {
			return
		}
	}
	if w.state.Load() == watchPeer {
		_ = c.raw.SetReadDeadline(time.Now())
		<-w.done
		_ = c.raw.SetReadDeadline(time.Time{})
	} else {
		<-w.done
	}
	w.state.Store(watchOff)
}

// peerWatch waits for input or a disconnect from the client; on a
// disconnect the running statement is killed.
func (c *session) peerWatch(done chan struct{}) {
	defer close(done)
	_, err := c.cl.Peek(1)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return // pipelined input, or stopped
	}
	c.killDeparted()
}

// killDeparted kills the running statement of a client that left.
func (c *session) killDeparted() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if kerr := c.killQuery(ctx); kerr != nil {
		c.log.Warn("kill query of a departed client", "err", kerr)
	}
}

// watchLoop is the janitor: every watchTick it acts on each command that
// has run for watchAfter, until stop is closed.
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
		for _, c := range s.sessions {
			c.watchTick(now)
		}
		s.mu.Unlock()
	}
}

// watchTick starts a watcher (or a kill, when the client left) for a
// command that has run for watchAfter.
func (c *session) watchTick(now uint64) {
	w := &c.watch
	st := w.state.Load()
	if st != watchArmed && st != watchArmedAsync || now-w.since.Load() < uint64(watchAfter/watchTick) {
		return
	}
	if st == watchArmedAsync && !c.left.Load() {
		return
	}
	w.done = make(chan struct{})
	done := w.done
	switch {
	case st == watchArmed && w.state.CompareAndSwap(st, watchPeer):
		go c.peerWatch(done)
	case st == watchArmedAsync && w.state.CompareAndSwap(st, watchKill):
		go func() {
			defer close(done)
			c.killDeparted()
		}()
	}
}
