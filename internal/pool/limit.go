package pool

import "sync"

// The pool's limit is the smaller of two numbers: Max, the cluster's
// max_connections (SetMax, on SIGHUP), and the lease, this node's share of
// it when several sqlgate nodes share one state store (SetLease, from
// internal/lease). Lowering either closes idle connections above the new
// limit at once and busy ones as they come back (Release closes instead
// of keeping; the proxies close theirs on return when Over says so), and
// new connections wait until the open ones fall under it. Raising it wakes
// as many waiters as there are new slots. Neither call does I/O: the
// lease is decided elsewhere and only changes this local number.

// limitLocked is the number of connections the pool may hold now.
func (p *Pool) limitLocked() int {
	if p.lease >= 0 && p.lease < p.cfg.Max {
		return p.lease
	}
	return p.cfg.Max
}

// Limit returns the number of connections the pool may hold now: Max, or
// the node's leased share of it when that is smaller.
func (p *Pool) Limit() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limitLocked()
}

// Over reports that the pool holds more connections than its limit allows
// (the limit was lowered): a component holding slots through Reserve
// closes a connection it gets back instead of keeping it. It is one
// atomic load.
func (p *Pool) Over() bool { return p.over.Load() }

// SetMax changes the budget (max_connections, >= 1).
func (p *Pool) SetMax(n int) {
	p.setLimits(max(n, 1), -2)
}

// SetLease sets the node's share of the budget (>= 0); a negative n
// removes the lease, leaving Max as the only limit.
func (p *Pool) SetLease(n int) {
	p.setLimits(0, max(n, -1))
}

// setLimits applies a new Max (when > 0) and lease (when >= -1), closes
// idle connections above the resulting limit, asks the evictors for as
// many more, and wakes waiters for the slots that are free.
func (p *Pool) setLimits(maxConns, lease int) {
	p.mu.Lock()
	if maxConns > 0 {
		p.cfg.Max = maxConns
	}
	if lease >= -1 {
		p.lease = lease
	}
	limit := p.limitLocked()
	var drop []*Conn
	for p.open > limit && p.nIdle > 0 {
		drop = append(drop, p.popAnyIdleLocked())
		p.open--
	}
	over := p.open - limit
	p.over.Store(over > 0)
	for i := 0; i < -over && len(p.waiters) > 0; i++ {
		p.wakeLocked()
	}
	p.mu.Unlock()
	for _, c := range drop {
		_ = c.Close()
	}
	for i := 0; i < over; i++ {
		if !p.evictOther() {
			break
		}
	}
}

// TryReserve is Reserve without waiting: it takes a slot only if one is
// free now (closing an idle pooled connection of the Data API for it when
// needed). When none is, it asks the evictors to free one for a later
// try and reports false.
func (p *Pool) TryReserve() (release func(), ok bool) {
	var victim *Conn
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return nil, false
	case p.open < p.limitLocked():
		p.open++
		ok = true
	default:
		victim = p.popAnyIdleLocked()
		ok = victim != nil // its slot is now ours
	}
	p.mu.Unlock()
	if victim != nil {
		_ = victim.Close()
	}
	if !ok {
		p.evictOther()
		return nil, false
	}
	return p.slotRelease(), true
}

// slotRelease returns the release func of one reserved slot.
func (p *Pool) slotRelease() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.open--
			p.wakeLocked()
			p.mu.Unlock()
		})
	}
}
