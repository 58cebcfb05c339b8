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
type Share struct {
	inner Budget

	mu       sync.Mutex // guards following fields
	max      int        // 0 = no bound beyond inner's
	held     int
	wake     chan struct{} // closed when a slot frees or max rises
	evictors map[int]func() bool
	nextEv   int
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
	s.wakeLocked()
	excess := 0
	if s.max > 0 {
		excess = s.held - s.max
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
}

// Over reports whether the share holds more slots than its bound (after
// a SetMax lowered it) or the underlying budget is over its own: a pool
// then closes a returned connection instead of keeping it.
func (s *Share) Over() bool {
	s.mu.Lock()
	over := s.max > 0 && s.held > s.max
	s.mu.Unlock()
	return over || s.inner.Over()
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
