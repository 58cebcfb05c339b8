package mysqlproxy

// The backend-driven dispatcher. A session's goroutine reads its client's
// commands and handles them; when a command's reply is to be relayed, it
// writes the command to the backend and hands the relay to the backend
// connection's reader goroutine (one per connection, for its whole life),
// then goes back to reading its client. The relay ends the command: it
// releases the backend at a transaction boundary, and when a session is
// queued for one (proxy.Pool.Enqueue) the pool calls that session's Ready
// on the relay's own goroutine, which handles the queued command there —
// writing it to the backend at once — and the same goroutine then relays
// its reply. A queued command thus costs no wake-up of the waiting
// session's goroutine and no timer.
//
// The right to handle a session's commands is its hmu lock: the session
// goroutine holds it while it handles a command, and passes it to the
// relay (which unlocks it at the command's end), so a client that sends
// its next command early waits for the previous reply as before.

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// errRelaying is returned up through dispatch when the command's reply is
// being relayed by the backend's reader goroutine, which now holds hmu.
var errRelaying = errors.New("reply relayed by the backend reader")

// errQueued is returned up through dispatch when the session was queued
// for a backend; the command is handled again by Ready.
var errQueued = errors.New("queued for a backend connection")

// relayJob is a reply for a backend's reader goroutine to relay.
type relayJob struct {
	c    *session
	be   *backendConn
	kind respKind
}

// start hands the relay of the command just written to be's reader
// goroutine, starting it on first use. Called on that goroutine (a
// queued command handled at the end of a relay), the job waits in the
// channel until the current relay returns.
func (b *backendConn) start(j relayJob) {
	b.serveOnce.Do(func() {
		b.jobs = make(chan relayJob, 1)
		go b.serve(b.jobs)
	})
	b.jobs <- j
}

// serve relays replies until the connection is closed.
func (b *backendConn) serve(jobs <-chan relayJob) {
	for j := range jobs {
		j.c.relayed(j.be, j.kind)
	}
}

// stopServe ends the reader goroutine once its relay returns; no relay
// starts after it. The connection has no owner, so nothing starts one
// concurrently.
func (b *backendConn) stopServe() {
	b.closeOnce.Do(func() {
		b.serveOnce.Do(func() {})
		if b.jobs != nil {
			close(b.jobs)
		}
	})
}

// relayed relays the reply to the command the session wrote to be and
// ends the command; hmu was handed over by the writer and is released.
func (c *session) relayed(be *backendConn, kind respKind) {
	defer c.hmu.Unlock()
	defer c.recoverDispatch()
	res, err := c.relay(be, kind)
	be.pending = false
	c.stopWatch()
	c.setRunning(nil)
	if err := c.finish(be, res, err); err != nil {
		c.fail(err)
		return
	}
	c.endCommand()
}

// command handles one client command; hmu is held. errRelaying means the
// relay now holds hmu; errQueued that Ready will handle p again.
func (c *session) command(p []byte) (quit bool, err error) {
	queries := c.ps.Counters.Queries
	quit, err = c.dispatch(c.ctx, p)
	switch {
	case errors.Is(err, errRelaying):
		return false, errRelaying
	case errors.Is(err, errQueued):
		c.ps.Counters.Queries = queries // counted when handled again
		c.queued, c.queuedCmd = true, p
		return false, errQueued
	}
	c.endCommand()
	return quit, err
}

// endCommand marks the session idle when it holds no backend; hmu is held.
// A shutdown nudge (WaitIdle's error) fails the pending client read.
func (c *session) endCommand() {
	if c.be == nil && !c.idle {
		c.idle = true
		_ = c.ps.WaitIdle()
	}
}

// Ready implements proxy.Waiter: the pool hands the queued session a
// backend (or the error that ended its wait) and the queued command is
// handled now, on the caller's goroutine.
func (c *session) Ready(pb *poolConn, err error) {
	c.hmu.Lock()
	if c.gone || !c.queued {
		if pb != nil {
			c.srv.pool.Put(pb)
		}
		c.hmu.Unlock()
		return
	}
	c.queued = false
	c.hcond.Broadcast()
	c.given, c.givenErr = pb, err
	p := c.queuedCmd
	c.queuedCmd = nil
	if c.readyCommand(p) {
		return // the relay holds hmu
	}
	c.hmu.Unlock()
}

// readyCommand handles a queued command for Ready and reports whether a
// relay took hmu over; a panic ends this session only.
func (c *session) readyCommand(p []byte) (relaying bool) {
	defer c.recoverDispatch()
	quit, err := c.command(p)
	switch {
	case errors.Is(err, errRelaying):
		return true
	case errors.Is(err, errQueued):
	case err != nil:
		c.fail(err)
	case quit:
		c.fail(errors.New("client quit"))
	}
	if g := c.given; g != nil { // the command no longer needed it
		c.given = nil
		c.srv.pool.Put(g)
	}
	c.givenErr = nil
	return false
}

// fail ends the session from outside its goroutine: the error is kept
// for it and its pending client read is woken.
func (c *session) fail(err error) {
	c.mu.Lock()
	if c.failErr == nil {
		c.failErr = err
	}
	c.mu.Unlock()
	c.failSet.Store(true)
	_ = c.ps.Conn.SetReadDeadline(time.Now())
}

// failed returns the error a relay or Ready ended the session with.
func (c *session) failed() error {
	if !c.failSet.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failErr
}

// recoverDispatch turns a panic on a relay or Ready goroutine into the
// end of this session only; the session goroutine then closes the
// backend it holds (pending is left set, so it is discarded).
func (c *session) recoverDispatch() {
	v := recover()
	if v == nil {
		return
	}
	c.srv.px.CountError("panic")
	c.log.Error("session panic", "panic", v, "stack", string(debug.Stack()))
	if g := c.given; g != nil {
		c.given = nil
		c.srv.pool.Discard(g)
	}
	c.fail(fmt.Errorf("session panic: %v", v))
}

// dequeue leaves the pool's queue when the session ends; a Ready already
// under way finds gone set and returns the connection. hmu is held.
func (c *session) dequeue() {
	c.gone = true
	if c.queued {
		c.srv.pool.Cancel(c.login, c)
		c.queued = false
	}
	c.queuedCmd = nil
}
