package proxy

import "time"

// Chain removes and returns the first Waiter queued for pc's login when
// accept reports true for it, for a front end that serves it on pc while
// pc stays lent (pipelining several clients' statements on one
// connection). The waiter's per-principal slot and its Route pick are
// given back: it holds no connection of its own (a routed waiter was
// queued under pc's instance). Only the head of the queue is considered, so
// waiters are still served in order. accept runs under the pool's lock
// and must not block or call the pool; nil means none was taken.
func (p *Pool[C]) Chain(pc *Pooled[C], accept func(Waiter[C]) bool) Waiter[C] {
	p.mu.Lock()
	list := pc.kd.waiters
	if len(list) == 0 || list[0].w == nil || !accept(list[0].w) {
		p.mu.Unlock()
		return nil
	}
	q := p.popWaiterLocked(pc.kd)
	w, since, share, pick := q.w, q.since, q.share, q.pick
	p.spareLocked(q)
	p.mu.Unlock()
	share.Release()
	endPick(pick)
	p.obs(time.Since(since), nil)
	return w
}
