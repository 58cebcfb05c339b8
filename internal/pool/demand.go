package pool

import "slices"

// Demand is what the pool's users ask of the budget now: connections held
// (busy, including the slots other components reserved) plus requests
// waiting for one, here and in the components registered with
// AddWaiting. Nodes sharing a state store split max_connections by it
// (internal/lease).
func (p *Pool) Demand() int {
	p.mu.Lock()
	n := p.open - p.nIdle + len(p.waiters)
	p.mu.Unlock()
	p.emu.Lock()
	fns := slices.Clone(p.waiting)
	p.emu.Unlock()
	for _, w := range fns {
		n += w.fn()
	}
	return n
}

// Open returns the connections held: busy, idle and reserved.
func (p *Pool) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

// AddWaiting registers fn, which reports how many requests of another
// component (a proxy's queue) wait for a slot of this budget without
// waiting in the pool itself, so that Demand counts them. The returned
// func unregisters it.
func (p *Pool) AddWaiting(fn func() int) (remove func()) {
	w := &waitingFn{fn: fn}
	p.emu.Lock()
	defer p.emu.Unlock()
	p.waiting = append(p.waiting, w)
	return func() {
		p.emu.Lock()
		defer p.emu.Unlock()
		p.waiting = slices.DeleteFunc(p.waiting, func(x *waitingFn) bool { return x == w })
	}
}

// waitingFn is one registered AddWaiting func (a pointer, so it can be
// removed).
type waitingFn struct{ fn func() int }
