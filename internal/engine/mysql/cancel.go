package mysql

import (
	"context"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// aborter closes the socket under a running command, once.
type aborter struct {
	c    *Conn
	once sync.Once
	hit  bool
	mu   sync.Mutex
}

func (a *aborter) abort() {
	a.once.Do(func() {
		a.mu.Lock()
		a.hit = true
		a.mu.Unlock()
		_ = a.c.cl.Close()
	})
}

func (a *aborter) done() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hit
}

// watcher sends KILL QUERY when the caller's ctx ends during a statement.
type watcher struct {
	finished chan struct{} // closed when the statement returned
	done     chan struct{} // closed when the kill goroutine is over
	stopFn   func() bool
}

func (c *Conn) watch(ctx context.Context, abort func()) *watcher {
	w := newWatcher()
	w.stopFn = context.AfterFunc(ctx, func() { w.kill(c, abort) })
	return w
}

func newWatcher() *watcher {
	return &watcher{finished: make(chan struct{}), done: make(chan struct{})}
}

// kill sends KILL QUERY, closing the socket (abort) if that fails or the
// statement does not finish within killGrace.
func (w *watcher) kill(c *Conn, abort func()) {
	defer close(w.done)
	kctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	if err := c.eng.kill(kctx, c.creds, c.addr, c.id); err != nil {
		abort()
		return
	}
	t := time.NewTimer(killGrace)
	defer t.Stop()
	select {
	case <-w.finished:
	case <-t.C:
		abort()
	}
}

// stop reports whether the kill ran, waiting for it to finish so a late
// KILL QUERY can never hit the connection's next statement.
func (w *watcher) stop() bool {
	close(w.finished)
	if w.stopFn() {
		return false
	}
	<-w.done
	return true
}

// interrupts is the engine.Interrupter state of a connection: the abort
// of the statement running (nil: none runs) and the kill Interrupt
// started for it (nil: none).
type interrupts struct {
	mu    sync.Mutex
	abort func()
	kill  *watcher
}

var _ engine.Interrupter = (*Conn)(nil)

// Interrupt stops the running statement as the end of its ctx would: KILL
// QUERY from a side connection, the socket closed if that fails
// (engine.Interrupter).
func (c *Conn) Interrupt() {
	in := &c.intr
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.abort == nil || in.kill != nil {
		return
	}
	in.kill = newWatcher()
	go in.kill.kill(c, in.abort)
}

// begin marks a statement running under a ctx with no Done channel; the
// caller checks ctx.Err() after it, so an Interrupt just before is not lost.
func (c *Conn) begin(abort func()) {
	c.intr.mu.Lock()
	c.intr.abort = abort
	c.intr.mu.Unlock()
}

// end marks the statement over and reports whether Interrupt killed it,
// waiting for the kill to finish (see watcher.stop).
func (c *Conn) end() bool {
	in := &c.intr
	in.mu.Lock()
	w := in.kill
	in.abort, in.kill = nil, nil
	in.mu.Unlock()
	if w == nil {
		return false
	}
	close(w.finished)
	<-w.done
	return true
}
