package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Routed borrows. A pool with a Route (a read-only endpoint) asks it for
// an instance on every borrow, so transactions, not connections, are
// balanced: the Route counts a pick as outstanding until the borrow ends
// (Put or Discard), and picks the eligible instance with the fewest. The
// borrow then takes an idle connection to that instance (the instance is
// part of the pool key, Login.Instance) or opens one. A dial that finds
// the instance down, before any of the client's bytes went to it, marks
// it down in the Route and the borrow tries the next pick; a client in a
// transaction holds its connection and gets its errors as they come.

// maxRoutes bounds the instances one borrow tries.
const maxRoutes = 4

// getRouted is get for a routed pool: pick an instance, borrow a
// connection to it, and pick again while dials find instances down. The
// returned connection holds its pick.
func (p *Pool[C]) getRouted(ctx context.Context, login Login, start time.Time) (*Pooled[C], error) {
	var last error
	var tried []string
	for range maxRoutes {
		addr, done, err := p.cfg.Route.Pick()
		if err != nil {
			return nil, fmt.Errorf("%w: %w: %w", ErrNoReader, ErrBackendDown, err)
		}
		if slices.Contains(tried, addr) { // not taken out (the writer as the fallback)
			done()
			return nil, last
		}
		tried = append(tried, addr)
		login.Instance = addr
		pc, err := p.get(ctx, login, start)
		if err == nil {
			pc.pick = done
			return pc, nil
		}
		done()
		if !p.rerouted(ctx, err) {
			return nil, err
		}
		last = err
	}
	return nil, last
}

// rerouted reports whether a routed borrow that failed with err may try
// another instance: the dial found its instance down and time remains.
func (p *Pool[C]) rerouted(ctx context.Context, err error) bool {
	return p.cfg.Route != nil && errors.Is(err, ErrBackendDown) && ctx.Err() == nil
}

// endPick ends the borrower's pick: the Route counts it no more.
func (pc *Pooled[C]) endPick() {
	if pick := pc.pick; pick != nil {
		pc.pick = nil
		pick()
	}
}

// endPick calls pick if set.
func endPick(pick func()) {
	if pick != nil {
		pick()
	}
}

// unqueueAny removes w from whichever queue holds it (a routed borrow is
// queued under the instance it was routed to), or returns nil.
func (p *Pool[C]) unqueueAny(w Waiter[C]) *waiter[C] {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, kd := range p.keys {
		for i, q := range kd.waiters {
			if q.w == w {
				p.removeLocked(kd, i)
				return q
			}
		}
	}
	return nil
}
