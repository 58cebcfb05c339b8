package proxy

import (
	"context"
	"time"

	"github.com/sqlgate/sqlgate/internal/fairshare"
)

// Queued borrows. A front end that cannot get a connection at once
// leaves a Waiter in the pool's FIFO and goes back to reading its client;
// whoever returns a connection of the same login (normally the backend's
// own reader, at the end of a transaction) calls Ready on its own
// goroutine, so the next transaction starts without waking another
// goroutine or arming a timer. The borrow timeout, and growing the pool
// when the budget frees a slot, are the reaper's job: while waiters are
// queued it wakes every queueTick and checks their enqueue times.

// Waiter is a borrow queued by Enqueue.
type Waiter[C Conn] interface {
	// Ready is called exactly once (unless Cancel removed the waiter)
	// with the connection, or with the error that ended the wait:
	// ErrBorrowTimeout, ErrPoolClosed or a dial error. It runs on the
	// goroutine that returned the connection; it must not wait for that
	// goroutine's other work.
	Ready(pc *Pooled[C], err error)
}

// waiter is one queued borrow: a blocked Get (ch) or a Waiter (w).
type waiter[C Conn] struct {
	ch    chan *Pooled[C]
	w     Waiter[C]
	login Login
	since time.Time
	share fairshare.Slot // a Waiter's per-principal slot, adopted by its connection
	pick  func()         // a Waiter's Route pick, adopted by its connection
}

// queueTick is how often the reaper checks queued waiters.
const queueTick = 5 * time.Millisecond

// Enqueue borrows a connection for login like Get, without blocking: it
// returns an idle connection, or queues w (queued) when connections of
// this login are busy and the budget has no free slot; Put then hands
// the next one returned to w.Ready. When neither applies (a new
// connection may be opened, or nothing of this login is busy), it returns
// nothing and the caller uses Get — except that a routed pool
// (PoolConfig.Route) with room opens the connection to the instance it
// picked itself and hands it to w.Ready (queued).
//
// A login user at its per-principal bound (PoolConfig.Shares) is not
// queued either: Get waits for, or refuses, it.
func (p *Pool[C]) Enqueue(login Login, w Waiter[C]) (pc *Pooled[C], queued bool, err error) {
	sl, ok := p.tryShare(login)
	if !ok {
		return nil, false, nil
	}
	var pick func()
	if p.cfg.Route != nil {
		addr, done, err := p.cfg.Route.Pick()
		if err != nil {
			sl.Release()
			return nil, false, nil // Get answers it
		}
		login.Instance, pick = addr, done
	}
	pc, queued, err = p.enqueue(login, w, sl, pick)
	switch {
	case pc != nil:
		pc.adopt(sl)
		pc.pick = pick
	case queued:
	case err == nil && pick != nil && p.openFor(login, w, sl, pick):
		queued = true
	default:
		sl.Release()
		endPick(pick)
	}
	return pc, queued, err
}

// openFor opens a connection for a routed borrow that found none idle
// while the budget has room, and hands it to w.Ready; false when the
// budget is full. A routed borrow does not fall through to Get, whose
// own pick could choose another instance: every other borrow would then
// take the instance after the one this pick chose.
func (p *Pool[C]) openFor(login Login, w Waiter[C], sl fairshare.Slot, pick func()) bool {
	b, _ := p.budgetOf(login)
	release, err := p.tryReserve(b)
	if err != nil {
		return false
	}
	p.connectFor(&waiter[C]{w: w, login: login, since: time.Now(), share: sl, pick: pick}, login.Instance, release)
	return true
}

// enqueue is Enqueue once the share slot sl is taken; a queued waiter
// holds it.
func (p *Pool[C]) enqueue(login Login, w Waiter[C], sl fairshare.Slot, pick func()) (pc *Pooled[C], queued bool, err error) {
	p.mu.Lock()
	kd := p.keyedLocked(login)
	pc, err = p.takeIdleLocked(kd)
	ask := len(kd.waiters) == 0
	p.mu.Unlock()
	if pc != nil || err != nil {
		p.obs(0, err)
		return pc, false, err
	}
	// With others of this login queued already the budget was full a
	// moment ago (the sweep grows the pool if a slot frees): queue without
	// asking it again, which would cost every borrow under load. The
	// budget is asked without p.mu: a full one evicts idle connections,
	// of this pool too.
	if ask {
		b, _ := p.budgetOf(login)
		if release, err := p.tryReserve(b); err == nil {
			release() // Get opens a connection
			return nil, false, nil
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false, ErrPoolClosed
	}
	kd = p.keyedLocked(login) // looked up again: it may have been tidied away
	if kd.busy == 0 {
		p.tidyLocked(kd)
		return nil, false, nil
	}
	if p.nIdle > 0 {
		p.evictOldestLocked() // frees a slot the reaper's sweep can take
	}
	kd.waiters = append(kd.waiters, p.newWaiterLocked(w, login, sl, pick))
	p.nWait++
	p.nQueued++
	if p.sweeping.CompareAndSwap(false, true) {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	return nil, true, nil
}

// newWaiterLocked returns a queued borrow of w, reusing a served one;
// p.mu is held.
func (p *Pool[C]) newWaiterLocked(w Waiter[C], login Login, sl fairshare.Slot, pick func()) *waiter[C] {
	var q *waiter[C]
	if n := len(p.spare); n > 0 {
		q = p.spare[n-1]
		p.spare = p.spare[:n-1]
	} else {
		q = new(waiter[C])
	}
	*q = waiter[C]{w: w, login: login, since: time.Now(), share: sl, pick: pick}
	return q
}

// spareLocked keeps a served Enqueue waiter nobody refers to any more for
// newWaiterLocked, up to maxSpare; p.mu is held.
func (p *Pool[C]) spareLocked(q *waiter[C]) {
	if len(p.spare) < maxSpare {
		*q = waiter[C]{}
		p.spare = append(p.spare, q)
	}
}

// maxSpare bounds the served waiters a pool keeps for reuse.
const maxSpare = 256

// Cancel removes w from the queue. It reports false when w is no longer
// queued: Ready has been or is being called.
func (p *Pool[C]) Cancel(login Login, w Waiter[C]) bool {
	q := p.unqueue(login, w)
	if q == nil {
		return false
	}
	q.share.Release()
	endPick(q.pick)
	return true
}

// unqueue removes w from the queue and returns it, or nil when it is no
// longer queued.
func (p *Pool[C]) unqueue(login Login, w Waiter[C]) *waiter[C] {
	if p.cfg.Route != nil && login.Instance == "" {
		return p.unqueueAny(w) // queued under the instance it was routed to
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	kd := p.keyedLocked(login)
	for i, q := range kd.waiters {
		if q.w == w {
			p.removeLocked(kd, i)
			return q
		}
	}
	p.tidyLocked(kd)
	return nil
}

// dropWaiter removes ch from the queue; if a connection was handed over
// already it is returned.
func (p *Pool[C]) dropWaiter(kd *keyed[C], ch chan *Pooled[C]) *Pooled[C] {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, w := range kd.waiters {
		if w.ch == ch {
			p.removeLocked(kd, i)
			close(ch)
			return nil
		}
	}
	return <-ch // Put sent one before removing us
}

// popWaiterLocked removes and returns the first waiter of kd; p.mu is
// held and kd has waiters.
func (p *Pool[C]) popWaiterLocked(kd *keyed[C]) *waiter[C] {
	w := kd.waiters[0]
	p.removeLocked(kd, 0)
	return w
}

// removeLocked removes waiter i of kd; p.mu is held.
func (p *Pool[C]) removeLocked(kd *keyed[C], i int) {
	list := kd.waiters
	w := list[i]
	copy(list[i:], list[i+1:])
	list[len(list)-1] = nil
	kd.waiters = list[:len(list)-1]
	p.tidyLocked(kd)
	p.nWait--
	if w.w != nil {
		p.nQueued--
	}
}

// takeQueuedLocked removes and returns the queued Waiters, in each
// login's queue from the front up to the first one for which drop is
// false (queues are in enqueue order); p.mu is held.
func (p *Pool[C]) takeQueuedLocked(drop func(*waiter[C]) bool) []*waiter[C] {
	var out []*waiter[C]
	for _, kd := range p.keys {
		for i := 0; i < len(kd.waiters); {
			w := kd.waiters[i]
			if w.w == nil {
				i++
				continue
			}
			if !drop(w) {
				break
			}
			out = append(out, w)
			p.removeLocked(kd, i)
		}
	}
	return out
}

// fail ends a queued borrow with err.
func (p *Pool[C]) fail(w *waiter[C], err error) {
	w.share.Release()
	endPick(w.pick)
	p.obs(time.Since(w.since), err)
	w.w.Ready(nil, err)
}

// sweepQueued fails queued waiters older than the borrow timeout and
// opens connections for the oldest ones waiting longer than handoffWait
// while the budget has free slots. It reports whether waiters remain
// (else the fast tick stops).
func (p *Pool[C]) sweepQueued(now time.Time) bool {
	p.mu.Lock()
	expired := p.takeQueuedLocked(func(w *waiter[C]) bool { return now.Sub(w.since) >= time.Duration(p.borrowTimeout.Load()) })
	p.mu.Unlock()
	for _, w := range expired {
		go p.fail(w, ErrBorrowTimeout)
	}
	for p.growOne(now) {
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nQueued == 0 {
		p.sweeping.Store(false)
		return false
	}
	return true
}

// growOne opens a connection for the oldest waiter queued longer than
// handoffWait if the budget has a free slot.
func (p *Pool[C]) growOne(now time.Time) bool {
	p.mu.Lock()
	var oldest *waiter[C]
	for _, kd := range p.keys {
		for _, w := range kd.waiters {
			if w.w == nil {
				continue
			}
			if now.Sub(w.since) >= handoffWait && (oldest == nil || w.since.Before(oldest.since)) {
				oldest = w
			}
			break // the first Waiter is its queue's oldest
		}
	}
	if oldest == nil {
		p.mu.Unlock()
		return false
	}
	// A copy: Put reuses a served waiter once p.mu is released.
	first := *oldest
	oldest = &first
	p.mu.Unlock()
	b, inst := p.budgetOf(oldest.login)
	release, err := p.tryReserve(b)
	if err != nil {
		return false
	}
	q := p.unqueue(oldest.login, oldest.w)
	if q == nil {
		release()
		return true // served meanwhile; look again
	}
	p.connectFor(q, inst, release) // the waiter removed (the session may have queued again since the copy)
	return true
}

// connectFor opens a connection for the borrow w, no longer queued, on a
// goroutine of its own, to the instance inst whose budget slot release
// holds, and hands it (or the error) to its Ready. A routed borrow whose
// instance is down picks again.
func (p *Pool[C]) connectFor(w *waiter[C], inst string, release func()) {
	go func() {
		ctx, cancel := context.WithDeadline(context.Background(), w.since.Add(time.Duration(p.borrowTimeout.Load())))
		defer cancel()
		pc, err := p.connect(ctx, at(w.login, inst), p.keyOf(w.login), release)
		if err != nil && p.rerouted(ctx, err) {
			endPick(w.pick) // its instance is down: another may serve
			w.pick = nil
			pc, err = p.getRouted(ctx, w.login, w.since)
		}
		p.obs(time.Since(w.since), err)
		if err != nil {
			w.share.Release()
			endPick(w.pick)
		} else {
			pc.adopt(w.share)
			if w.pick != nil {
				pc.pick = w.pick
			}
		}
		w.w.Ready(pc, err)
	}()
}
