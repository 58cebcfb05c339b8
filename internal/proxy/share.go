package proxy

import (
	"context"
	"sync"
)

// Share is one proxy's part of its cluster's connection budget: it holds at
// most Max slots of the underlying Budget at once (RDS Proxy
// MaxConnectionsPercent). SetMax changes the bound while the proxy runs;
// lowering it closes idle connections above it at once (through the
// evictors of the proxy's pools) and busy ones when they are returned
// (pools ask Over), and blocks new ones.
//
// Over a Budget with Instances (a cluster with instances) the bound is
// per instance, as the budget is: the Share keeps one share of each
// instance (Instance), each holding at most Max slots of that
// instance's budget.
type Share struct {
	inner Budget

	mu       sync.Mutex // guards following fields
	max      int        // 0 = no bound beyond inner's
	held     int
	leaving  int           // held slots whose connections ClaimOver sent to be closed
	wake     chan struct{} // closed when a slot frees or max rises
	evictors map[int]func() bool
	nextEv   int
	of       map[string]*Share // the share of each instance (Instance)
	pools    map[*instancePool]bool
}

var _ Instances = (*Share)(nil)

// Instance returns the share of the instance at addr ("" = the current
// writer) and the address resolved, over a budget with Instances; over
// another budget, s itself and addr.
func (s *Share) Instance(addr string) (Budget, string) {
	ib, ok := s.inner.(Instances)
	if !ok {
		return s, addr
	}
	b, addr := ib.Instance(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.of == nil {
		s.of = map[string]*Share{}
	}
	sh := s.of[addr]
	if sh == nil {
		sh = NewShare(b, s.max)
		s.of[addr] = sh
	}
	return sh, addr
}

// list keeps p, a pool drawing on the share (NewPool), until unlist.
func (s *Share) list(p instancePool) (unlist func()) {
	key := &p
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pools == nil {
		s.pools = map[*instancePool]bool{}
	}
	s.pools[key] = true
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.pools, key)
	}
}

// listed returns the pools drawing on the share.
func (s *Share) listed() []instancePool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]instancePool, 0, len(s.pools))
	for p := range s.pools {
		out = append(out, *p)
	}
	return out
}

// EvictIdleTo closes the longest-idle connection of one of the share's
// pools to the instance at addr, and reports whether there was one. The
// cluster registers it with that instance's budget, so idle proxy
// connections give their slots back to the other doors of the same
// instance.
func (s *Share) EvictIdleTo(addr string) bool {
	for _, p := range s.listed() {
		if p.evictIdleTo(addr) {
			return true
		}
	}
	return false
}

// WaitingTo counts the borrows of the share's pools waiting for a
// connection to the instance at addr (that instance's demand).
func (s *Share) WaitingTo(addr string) int {
	n := 0
	for _, p := range s.listed() {
		n += p.waitingTo(addr)
	}
	return n
}

var _ Budget = (*Share)(nil)

// NewShare returns a Share of inner bounded to max slots (0 = unbounded).
func NewShare(inner Budget, max int) *Share {
	return &Share{inner: inner, max: max, wake: make(chan struct{})}
}

// SetMax changes the bound (0 = unbounded); idle connections above a
// lowered bound are closed before it returns.
func (s *Share) SetMax(n int) {
	s.mu.Lock()
	s.max = max(n, 0)
	of := make(map[string]*Share, len(s.of))
	for addr, sh := range s.of {
		of[addr] = sh
	}
	s.wakeLocked()
	excess := 0
	if s.max > 0 {
		excess = s.held - s.leaving - s.max
	}
	evs := make([]func() bool, 0, len(s.evictors))
	for _, f := range s.evictors {
		evs = append(evs, f)
	}
	s.mu.Unlock()
	// An eviction frees its slot asynchronously: count them rather than
	// asking Over again.
	for _, f := range evs {
		for excess > 0 && f() {
			excess--
		}
	}
	for addr, sh := range of {
		sh.setMaxOf(n, func() bool { return s.EvictIdleTo(addr) })
	}
}

// setMaxOf is SetMax of an instance's share, whose idle connections
// evict closes.
func (s *Share) setMaxOf(n int, evict func() bool) {
	s.mu.Lock()
	s.max = max(n, 0)
	s.wakeLocked()
	excess := 0
	if s.max > 0 {
		excess = s.held - s.max
	}
	s.mu.Unlock()
	for excess > 0 && evict() {
		excess--
	}
}

// Over reports whether the share holds more slots than its bound (after
// a SetMax lowered it) or the underlying budget is over its own: a pool
// then closes a returned connection instead of keeping it.
func (s *Share) Over() bool {
	s.mu.Lock()
	over := s.overLocked()
	s.mu.Unlock()
	return over || s.inner.Over()
}

// overLocked reports whether the slots held and not leaving exceed the
// share's own bound; s.mu is held.
func (s *Share) overLocked() bool { return s.max > 0 && s.held-s.leaving > s.max }

// ClaimOver is Over for a returned connection its caller will close
// when over: a slot above the share's own bound is counted as leaving
// until closed is called (after the connection closed and its slot was
// released), so that the next connection returned meanwhile sees the
// share at its bound, not still over it.
func (s *Share) ClaimOver() (over bool, closed func()) {
	s.mu.Lock()
	if s.overLocked() {
		s.leaving++
		s.mu.Unlock()
		return true, func() {
			s.mu.Lock()
			s.leaving--
			s.mu.Unlock()
		}
	}
	s.mu.Unlock()
	return s.inner.Over(), func() {}
}

// AddEvictor registers a function that closes one idle connection held
// through the share and reports whether there was one (Pool.EvictIdle);
// the returned func removes it.
func (s *Share) AddEvictor(f func() bool) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.evictors == nil {
		s.evictors = map[int]func() bool{}
	}
	id := s.nextEv
	s.nextEv++
	s.evictors[id] = f
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.evictors, id)
	}
}

// Held returns the slots currently held through the share.
func (s *Share) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

func (s *Share) wakeLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// Reserve takes a slot of the share, then of the underlying budget; both
// wait until ctx is done. With a done ctx it succeeds only when a slot is
// free at once.
func (s *Share) Reserve(ctx context.Context) (func(), error) {
	for {
		s.mu.Lock()
		if s.max == 0 || s.held < s.max {
			s.held++
			s.mu.Unlock()
			break
		}
		w := s.wake
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	release, err := s.inner.Reserve(ctx)
	if err != nil {
		s.free()
		return nil, err
	}
	return s.releaseFunc(release), nil
}

// TryReserve takes a slot of the share and of the underlying budget only
// if both are free now.
func (s *Share) TryReserve() (func(), bool) {
	s.mu.Lock()
	if s.max != 0 && s.held >= s.max {
		s.mu.Unlock()
		return nil, false
	}
	s.held++
	s.mu.Unlock()
	release, ok := s.inner.TryReserve()
	if !ok {
		s.free()
		return nil, false
	}
	return s.releaseFunc(release), true
}

// releaseFunc returns the release of a slot held through the share.
func (s *Share) releaseFunc(inner func()) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			inner()
			s.free()
		})
	}
}

func (s *Share) free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held--
	s.wakeLocked()
}
