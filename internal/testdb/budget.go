package testdb

import (
	"context"
	"sync"
	"sync/atomic"
)

// Budget is a connection budget of a fixed number of slots, the fake of
// the cluster budget that pools and proxies draw on (it satisfies
// proxy.Budget).
type Budget struct {
	ch   chan struct{}
	over atomic.Bool
}

// NewBudget returns a Budget of n slots.
func NewBudget(n int) *Budget { return &Budget{ch: make(chan struct{}, n)} }

// Reserve takes a slot, waiting until one is free or ctx ends; a free
// slot is taken even when ctx is already done (a try). The release
// function is idempotent.
func (b *Budget) Reserve(ctx context.Context) (func(), error) {
	select {
	case b.ch <- struct{}{}:
	default:
		select {
		case b.ch <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return b.release(), nil
}

// TryReserve takes a slot only if one is free now.
func (b *Budget) TryReserve() (func(), bool) {
	select {
	case b.ch <- struct{}{}:
		return b.release(), true
	default:
		return nil, false
	}
}

func (b *Budget) release() func() {
	var once sync.Once
	return func() { once.Do(func() { <-b.ch }) }
}

// Over reports what SetOver last set (false at first): whether the
// budget has been lowered below what is held.
func (b *Budget) Over() bool { return b.over.Load() }

// SetOver sets what Over answers.
func (b *Budget) SetOver(over bool) { b.over.Store(over) }

// Used is the number of slots taken.
func (b *Budget) Used() int { return len(b.ch) }
