package state

import (
	"context"
	"sync"
)

// maxPending bounds the events queued for one slow watcher; past it the
// queue collapses into a single (WatchAll, "") event.
const maxPending = 1024

// fanout delivers a process's own writes to its Watch calls. Writers never
// block on a watcher: each one has its own queue, drained on the goroutine
// that called Watch.
type fanout struct {
	done chan struct{} // closed by close

	mu     sync.Mutex // guards following fields
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	wake chan struct{} // capacity 1: "pending has news"
	// Guarded by fanout.mu.
	pending  []event
	overflow bool
}

type event struct{ ns, key string }

func newFanout() *fanout {
	return &fanout{done: make(chan struct{}), subs: make(map[*subscriber]struct{})}
}

// notify queues (ns, key) for every current watcher.
func (f *fanout) notify(ns, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		if len(s.pending) >= maxPending {
			s.pending, s.overflow = s.pending[:0], true
		}
		s.pending = append(s.pending, event{ns, key})
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// watch implements Watcher.Watch for in-process writes.
func (f *fanout) watch(ctx context.Context, fn func(ns, key string)) error {
	s := &subscriber{wake: make(chan struct{}, 1)}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
	}()

	fn(WatchAll, "")
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.done:
			return nil
		case <-s.wake:
		}
		f.mu.Lock()
		evs, overflow := s.pending, s.overflow
		s.pending, s.overflow = nil, false
		f.mu.Unlock()
		if overflow {
			fn(WatchAll, "")
		}
		for _, e := range evs {
			if ctx.Err() != nil {
				return nil
			}
			fn(e.ns, e.key)
		}
	}
}

// close ends every watch call; later ones return at once.
func (f *fanout) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
}
