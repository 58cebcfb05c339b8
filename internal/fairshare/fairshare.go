// Package fairshare bounds what one principal may hold of a cluster: the
// backend connections it holds at once, the Data API transactions it keeps
// open, and the calls it has waiting for one of its own connections to come
// back. It sits above the cluster's connection budget (internal/pool): a
// principal that has used up its share is refused at once, with its door's
// throttling error, instead of queueing in the budget ahead of everyone
// else, so it never blocks another principal's calls (docs/config.md,
// "Fair share per principal").
//
// A principal is a string each door chooses: the IAM principal ARN for the
// Data API and the console, "apikey:ID" for SQL endpoints, "dbuser:NAME"
// for the proxies. The check on every borrow is a map lookup under a read
// lock and an atomic add.
package fairshare

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// ErrLimit matches every *LimitError (errors.Is).
var ErrLimit = errors.New("per-principal limit reached")

// Kind is the limit a refusal hit.
type Kind uint8

// The limits.
const (
	Connections  Kind = iota // max_connections_per_principal
	Transactions             // max_transactions_per_principal
	Waiters                  // max_waiters_per_principal
	nKinds
)

// String is the kind's metric label.
func (k Kind) String() string {
	switch k {
	case Connections:
		return "connections"
	case Transactions:
		return "transactions"
	}
	return "waiters"
}

// LimitError is a refusal: Principal holds Limit of Kind already.
type LimitError struct {
	Principal string
	Kind      Kind
	Limit     int
}

func (e *LimitError) Error() string {
	switch e.Kind {
	case Transactions:
		return fmt.Sprintf("principal %s has %d transactions open (max_transactions_per_principal)", e.Principal, e.Limit)
	case Waiters:
		return fmt.Sprintf("principal %s holds its share of connections (max_connections_per_principal) and %d calls wait for one already (max_waiters_per_principal)", e.Principal, e.Limit)
	}
	return fmt.Sprintf("principal %s holds %d connections (max_connections_per_principal)", e.Principal, e.Limit)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// Limits are the per-principal bounds; 0 means no bound. Waiters < 0 means
// no bound on waiting (0: a principal at its connection limit is refused
// at once); it applies only with Connections set.
type Limits struct {
	Connections, Transactions, Waiters int
}

// Enabled reports whether any bound is set.
func (l Limits) Enabled() bool { return l.Connections > 0 || l.Transactions > 0 }

// Shares is the per-principal accounting of one cluster. A nil *Shares
// bounds nothing and costs nothing.
type Shares struct {
	limits  atomic.Pointer[Limits]
	refused [nKinds]atomic.Uint64

	mu        sync.RWMutex // guards accts (the map; counts are atomics)
	accts     map[string]*account
	sweepSize int // sweep idle accounts when the map reaches this size
}

// account is one principal's counts. It is removed from the map only when
// all counts are zero, under the write lock, and counts are only raised
// under the read lock, so nobody raises a count of a removed account.
type account struct {
	n [nKinds]atomic.Int32

	mu   sync.Mutex    // guards wake
	wake chan struct{} // closed when a connection of this principal is released
}

// New returns the accounting for limits.
func New(l Limits) *Shares {
	s := &Shares{accts: map[string]*account{}, sweepSize: minSweep}
	s.limits.Store(&l)
	return s
}

// minSweep is the account count below which idle accounts are kept.
const minSweep = 256

// SetLimits changes the bounds (a config reload); holders above a lowered
// bound keep what they have, and waiters look again.
func (s *Shares) SetLimits(l Limits) {
	s.limits.Store(&l)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.accts {
		a.broadcast()
	}
}

// Limits returns the current bounds.
func (s *Shares) Limits() Limits { return *s.limits.Load() }

// Slot is something a principal holds; Release gives it back. The zero
// Slot holds nothing. Release it exactly once.
type Slot struct {
	a    *account
	kind Kind
}

// Release gives the slot back.
func (sl Slot) Release() {
	if sl.a == nil {
		return
	}
	sl.a.n[sl.kind].Add(-1)
	if sl.kind == Connections && sl.a.n[Waiters].Load() > 0 {
		sl.a.broadcast()
	}
}

// Transaction takes one of principal's open transactions, or refuses at
// once at the bound.
func (s *Shares) Transaction(principal string) (Slot, error) {
	return s.locked(principal, func(l *Limits, a *account) (Slot, error) {
		if n := a.n[Transactions].Add(1); l.Transactions > 0 && int(n) > l.Transactions {
			a.n[Transactions].Add(-1)
			return Slot{}, s.refuse(principal, Transactions, l.Transactions)
		}
		return Slot{a, Transactions}, nil
	})
}

// TryConnection takes one of principal's connections if it is under its
// bound now; it neither waits nor counts a refusal (a caller that then
// waits calls Connection).
func (s *Shares) TryConnection(principal string) (Slot, bool) {
	sl, err := s.locked(principal, func(l *Limits, a *account) (Slot, error) {
		if a.tryConn(l.Connections) {
			return Slot{a, Connections}, nil
		}
		return Slot{}, ErrLimit
	})
	return sl, err == nil
}

// Connection takes one of principal's connections. At the bound the call
// waits, as one of the principal's waiters, for one of its connections to
// be released, until ctx is done (then ErrLimit); beyond the waiters bound
// it is refused at once.
func (s *Shares) Connection(ctx context.Context, principal string) (Slot, error) {
	var waiting *account
	sl, err := s.locked(principal, func(l *Limits, a *account) (Slot, error) {
		if a.tryConn(l.Connections) {
			return Slot{a, Connections}, nil
		}
		if w := a.n[Waiters].Add(1); l.Waiters >= 0 && int(w) > l.Waiters {
			a.n[Waiters].Add(-1)
			return Slot{}, s.refuse(principal, Waiters, l.Waiters)
		}
		waiting = a
		return Slot{}, nil
	})
	if err != nil || waiting == nil {
		return sl, err
	}
	return s.await(ctx, principal, waiting)
}

// await waits as one of a's waiters (counted already) for a connection.
func (s *Shares) await(ctx context.Context, principal string, a *account) (Slot, error) {
	defer a.n[Waiters].Add(-1) // after n[Connections] rose: the account stays
	for {
		wake := a.wakeChan()
		l := s.limits.Load()
		if a.tryConn(l.Connections) {
			return Slot{a, Connections}, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return Slot{}, s.refuse(principal, Connections, l.Connections)
		}
	}
}

// locked runs fn on principal's account under the read lock, with the
// current limits. Without limits (or Shares, or principal) it holds
// nothing and succeeds.
func (s *Shares) locked(principal string, fn func(l *Limits, a *account) (Slot, error)) (Slot, error) {
	if s == nil || principal == "" {
		return Slot{}, nil
	}
	for {
		l := s.limits.Load()
		if !l.Enabled() {
			return Slot{}, nil
		}
		s.mu.RLock()
		a := s.accountLocked(principal)
		if a == nil { // created meanwhile: look again
			s.mu.RUnlock()
			continue
		}
		sl, err := fn(l, a)
		s.mu.RUnlock()
		return sl, err
	}
}

// tryConn raises the connection count if it stays within max (0 = no bound).
func (a *account) tryConn(max int) bool {
	if n := a.n[Connections].Add(1); max > 0 && int(n) > max {
		a.n[Connections].Add(-1)
		return false
	}
	return true
}

func (a *account) wakeChan() chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.wake == nil {
		a.wake = make(chan struct{})
	}
	return a.wake
}

func (a *account) broadcast() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.wake != nil {
		close(a.wake)
		a.wake = nil
	}
}

func (s *Shares) refuse(principal string, k Kind, limit int) error {
	s.refused[k].Add(1)
	return &LimitError{Principal: principal, Kind: k, Limit: limit}
}

// accountLocked returns principal's account, creating it; s.mu is read
// locked. It returns nil when it had to give up the read lock to create
// the account (the caller starts over: a sweep may have run meanwhile).
func (s *Shares) accountLocked(principal string) *account {
	if a := s.accts[principal]; a != nil {
		return a
	}
	s.mu.RUnlock()
	s.mu.Lock()
	if s.accts[principal] == nil {
		if len(s.accts) >= s.sweepSize {
			s.sweepLocked()
		}
		s.accts[principal] = &account{}
	}
	s.mu.Unlock()
	s.mu.RLock()
	return nil
}

// sweepLocked forgets the accounts that hold nothing; s.mu is held.
func (s *Shares) sweepLocked() {
	for p, a := range s.accts {
		if a.idle() {
			delete(s.accts, p)
		}
	}
	s.sweepSize = max(2*len(s.accts), minSweep)
}

func (a *account) idle() bool {
	for i := range a.n {
		if a.n[i].Load() != 0 {
			return false
		}
	}
	return true
}

// Stats is a snapshot for metrics.
type Stats struct {
	// Refused counts refusals by the limit they hit (Kind).
	Refused [nKinds]uint64
	// Top is the most any one principal holds of each Kind.
	Top [nKinds]int
	// Principals is how many principals hold or wait for anything.
	Principals int
}

// Stats returns the current counts (zero for a nil Shares).
func (s *Shares) Stats() Stats {
	var st Stats
	if s == nil {
		return st
	}
	for k := range st.Refused {
		st.Refused[k] = s.refused[k].Load()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.accts {
		if a.idle() {
			continue
		}
		st.Principals++
		for k := range st.Top {
			st.Top[k] = max(st.Top[k], int(a.n[k].Load()))
		}
	}
	return st
}

// Kinds lists the limits, for metric labels.
func Kinds() []Kind { return []Kind{Connections, Transactions, Waiters} }
