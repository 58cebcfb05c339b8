package mysqlproxy

// Killing the statement of a client that went away: if the client
// disconnects while a long command runs, its statement is killed on the
// backend (then the session ends and rolls back) instead of running to
// completion. The session goroutine reads the client while the reply is
// relayed (dispatch.go) and notes a failed read (left); commands arm the
// watch with two atomic stores and no timer, and one janitor goroutine per
// proxy ticks over the sessions and starts a kill only for a command that
// has been running for watchAfter when its client has left.

import (
	"context"
	"sync/atomic"
	"time"
)

// watchAfter is about how long a command runs before it is killed once
// its client has left (between watchAfter and watchAfter+watchTick).
const watchAfter = time.Second

// watchTick is the janitor's period.
const watchTick = watchAfter / 4

// Watch states of a session.
const (
	watchOff   uint32 = iota // no command running
	watchArmed               // a command is running
	watchOn                  // its client left; a kill is running
)

// cmdWatch is a session's watch state, shared with the janitor.
type cmdWatch struct {
	state atomic.Uint32
	since atomic.Uint64 // janitor tick at which the command started
	// done is closed by the kill. The janitor sets it before moving
	// state to watchOn; the session reads it only after seeing watchOn.
	done chan struct{}
}

// startWatch arms the watch for the command about to run.
func (c *session) startWatch() {
	c.watch.since.Store(c.srv.ticks.Load())
	c.watch.state.Store(watchArmed)
}

// stopWatch disarms the watch at the end of the command; when a kill
// was started it is awaited.
func (c *session) stopWatch() {
	if c.watch.state.Load() == watchOff || c.watch.state.CompareAndSwap(watchArmed, watchOff) {
		return
	}
	<-c.watch.done
	c.watch.state.Store(watchOff)
}

// killDeparted kills the running statement of a client that left.
func (c *session) killDeparted(done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if kerr := c.killQuery(ctx); kerr != nil {
		c.log.Warn("kill query of a departed client", "err", kerr)
	}
}

// watchLoop is the janitor: every watchTick it starts a kill for each
// command that has run for watchAfter after its client left, until stop
// is closed.
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
			w := &c.watch
			if w.state.Load() != watchArmed || now-w.since.Load() < uint64(watchAfter/watchTick) || !c.left.Load() {
				continue
			}
			w.done = make(chan struct{})
			if w.state.CompareAndSwap(watchArmed, watchOn) {
				go c.killDeparted(w.done)
			}
		}
		s.mu.Unlock()
	}
}
