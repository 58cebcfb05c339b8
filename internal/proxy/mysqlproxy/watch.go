package mysqlproxy

// Watching the client socket while a long command runs: if the client
// goes away, its statement is killed on the backend (then the session ends
// and rolls back) instead of running to completion. Commands arm the
// watch with two atomic stores and no timer; one janitor goroutine per
// proxy ticks over the sessions and starts a watcher only for a command
// that has been running for watchAfter.

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"time"
)

// watchAfter is about how long a command runs before the proxy starts
// watching the client socket for a disconnect (between watchAfter and
// watchAfter+watchTick).
const watchAfter = time.Second

// watchTick is the janitor's period.
const watchTick = watchAfter / 4

// Watch states of a session.
const (
	watchOff   uint32 = iota // no command running
	watchArmed               // a command is running, unwatched
	watchOn                  // a watcher goroutine is reading the client socket
)

// cmdWatch is a session's watch state, shared with the janitor.
type cmdWatch struct {
	state atomic.Uint32
	since atomic.Uint64 // janitor tick at which the command started
	// done is closed by the watcher. The janitor sets it before moving
	// state to watchOn; the session reads it only after seeing watchOn.
	done chan struct{}
}

// startWatch arms the watch for the command about to run.
func (c *session) startWatch() {
	c.watch.since.Store(c.srv.ticks.Load())
	c.watch.state.Store(watchArmed)
}

// stopWatch disarms the watch; it must be called before the next client
// read. When a watcher runs, its read is interrupted and awaited.
func (c *session) stopWatch() {
	if c.watch.state.CompareAndSwap(watchArmed, watchOff) {
		return
	}
	_ = c.raw.SetReadDeadline(time.Now())
	<-c.watch.done
	_ = c.raw.SetReadDeadline(time.Time{})
	c.watch.state.Store(watchOff)
}

// watchPeer waits for input or a disconnect from the client; on a
// disconnect the running statement is killed.
func (c *session) watchPeer(done chan struct{}) {
	defer close(done)
	_, err := c.cl.Peek(1)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return // pipelined input, or stopped
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if kerr := c.killQuery(ctx); kerr != nil {
		c.log.Warn("kill query of a departed client", "err", kerr)
	}
}

// watchLoop is the janitor: every watchTick it starts a watcher for each
// command that has run for watchAfter, until stop is closed.
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
			if w.state.Load() != watchArmed || now-w.since.Load() < uint64(watchAfter/watchTick) {
				continue
			}
			w.done = make(chan struct{})
			if w.state.CompareAndSwap(watchArmed, watchOn) {
				go c.watchPeer(w.done)
			}
		}
		s.mu.Unlock()
	}
}
