package mysql

import (
	"context"
	"sync"
	"time"
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
	w := &watcher{finished: make(chan struct{}), done: make(chan struct{})}
	w.stopFn = context.AfterFunc(ctx, func() {
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
	})
	return w
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
