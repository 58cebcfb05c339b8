package lane

import (
	"errors"
	"os"
	"sync/atomic"
	"time"
)

// watchDelay is how long a request runs before the lean path starts
// reading its connection to notice a client that went away (and cancel
// the request's context, as net/http's background read does). Requests
// that finish sooner never pay for that read.
const watchDelay = 50 * time.Millisecond

// Watcher states.
const (
	watchOff     int32 = iota
	watchArmed         // the timer may start a read
	watchReading       // a read is running
	watchDone          // the read returned
)

// watcher is a connection's disconnect watch: a timer, reused across
// requests, that starts one read after watchDelay.
type watcher struct {
	state atomic.Int32
	timer *time.Timer
	buf   []byte
	n     int
	err   error
	done  chan struct{} // a token when a read returned
}

var aLongTimeAgo = time.Unix(1, 0)

// start arms the watch for the request about to run.
func (w *watcher) start(c *conn) {
	w.state.Store(watchArmed)
	if w.timer == nil {
		w.done = make(chan struct{}, 1)
		w.timer = time.AfterFunc(watchDelay, func() { w.read(c) })
		return
	}
	w.timer.Reset(watchDelay)
}

// read runs in the timer's goroutine: one read of the connection, which
// returns bytes of a pipelined request, an error if the client is gone, or
// the deadline stop sets.
func (w *watcher) read(c *conn) {
	if !w.state.CompareAndSwap(watchArmed, watchReading) {
		return
	}
	if w.buf == nil {
		w.buf = make([]byte, 4<<10)
	}
	w.n, w.err = c.nc.Read(w.buf)
	if w.err != nil && !errors.Is(w.err, os.ErrDeadlineExceeded) {
		c.cancel()
	}
	w.state.Store(watchDone)
	w.done <- struct{}{}
}

// stop ends the watch after the handler returned: it stops a read in
// progress and keeps what it read.
func (w *watcher) stop(c *conn) {
	if w.state.CompareAndSwap(watchArmed, watchOff) {
		w.timer.Stop()
		return
	}
	if w.state.Load() == watchReading {
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
	}
	<-w.done
	_ = c.nc.SetReadDeadline(c.rdl)
	w.state.Store(watchOff)
	c.buf = append(c.buf, w.buf[:w.n]...)
	if w.err != nil && !errors.Is(w.err, os.ErrDeadlineExceeded) {
		c.dead = true
	}
	w.n, w.err = 0, nil
}
