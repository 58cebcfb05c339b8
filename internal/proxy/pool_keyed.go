package proxy

// Per-key state. A pool keeps, for each login key (Login.Key), its idle
// connections, the count it has lent out and the FIFO of borrows waiting
// for one, in one struct. Connections and waiters point at theirs and the
// login cache (loginKey) holds the last login's, so that a borrow and a
// return — several times per transaction — find it without hashing the
// 32-byte key and comparing it in a map.

// keyed is the pool's state of one login key; every field is guarded by
// the pool's mu.
type keyed[C Conn] struct {
	key     Key
	idle    []*Pooled[C] // the most recently returned last
	busy    int          // connections of this key lent out
	waiters []*waiter[C] // borrows waiting, in arrival order
	// gone: removed from Pool.keys once it held nothing; a cached pointer
	// to it is looked up again.
	gone bool
}

// empty reports that kd holds nothing, so the pool may forget it.
func (kd *keyed[C]) empty() bool {
	return len(kd.idle) == 0 && kd.busy == 0 && len(kd.waiters) == 0
}

// keyedLocked returns the state of login's key, made on first use; p.mu
// is held. The last login's state is cached with its key.
func (p *Pool[C]) keyedLocked(login Login) *keyed[C] {
	c := p.cached(login)
	if kd := c.kd; kd != nil && !kd.gone {
		return kd
	}
	c.kd = p.keyedOfLocked(c.key)
	return c.kd
}

// keyedOfLocked returns the state of key k, made on first use; p.mu is
// held.
func (p *Pool[C]) keyedOfLocked(k Key) *keyed[C] {
	kd := p.keys[k]
	if kd == nil {
		kd = &keyed[C]{key: k}
		p.keys[k] = kd
	}
	return kd
}

// tidyLocked forgets kd once it holds nothing; p.mu is held.
func (p *Pool[C]) tidyLocked(kd *keyed[C]) {
	if kd.empty() && !kd.gone {
		delete(p.keys, kd.key)
		kd.gone = true
	}
}

// lendLocked counts a connection of kd lent out; p.mu is held.
func (p *Pool[C]) lendLocked(kd *keyed[C]) {
	p.busy++
	kd.busy++
}

// unlendLocked counts a lent connection of kd back (returned or closed);
// p.mu is held.
func (p *Pool[C]) unlendLocked(kd *keyed[C]) {
	p.busy--
	kd.busy--
	p.tidyLocked(kd)
}

// dropIdleLocked removes idle connection i of kd; p.mu is held.
func (p *Pool[C]) dropIdleLocked(kd *keyed[C], i int) {
	list := kd.idle
	copy(list[i:], list[i+1:])
	list[len(list)-1] = nil
	kd.idle = list[:len(list)-1]
	p.nIdle--
	p.tidyLocked(kd)
}
