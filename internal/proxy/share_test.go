package proxy

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

func TestShare_Reserve(t *testing.T) {
	sh := NewShare(testdb.NewBudget(10), 1)
	rel, err := sh.Reserve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Full: a try fails at once, and so does a wait with a done ctx.
	if _, ok := sh.TryReserve(); ok {
		t.Fatal("TryReserve beyond a share of 1 succeeded")
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sh.Reserve(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("second slot of a share of 1: %v", err)
	}
	// Raising the bound wakes a waiter.
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := sh.Reserve(ctx)
		if err == nil {
			r()
		}
		got <- err
	}()
	sh.SetMax(2)
	if err := <-got; err != nil {
		t.Fatalf("waiter after SetMax(2): %v", err)
	}
	rel()
	rel() // idempotent
	if n := sh.Held(); n != 0 {
		t.Fatalf("held after release: %d", n)
	}
	// The underlying budget still bounds: a share of 5 over 1 slot.
	sh = NewShare(testdb.NewBudget(1), 5)
	r1, err := sh.Reserve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sh.TryReserve(); ok || sh.Held() != 1 {
		t.Fatalf("beyond the cluster budget: %v, held %d", ok, sh.Held())
	}
	r1()
}

func TestPool_SetMaxIdle(t *testing.T) {
	p := NewPool(PoolConfig{}, testdb.NewBudget(4), func(context.Context, Login) (*fakeConn, error) { return &fakeConn{}, nil }, nil)
	defer p.Close()
	p.SetMaxIdle(1)
	p.SetBorrowTimeout(time.Second)
	a, err := p.Get(context.Background(), Login{User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Get(context.Background(), Login{User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	p.Put(a)
	p.Put(b)
	if st := p.Stats(); st.Idle != 1 || !b.Conn.closed.Load() {
		t.Fatalf("idle %d, second returned connection closed %v; want 1 idle and it closed", st.Idle, b.Conn.closed.Load())
	}
}

// TestShare_Lowered: lowering a share's bound closes idle connections
// above it at once and busy ones when they are returned; a lowered idle
// bound trims idle connections at once.
func TestShare_Lowered(t *testing.T) {
	sh := NewShare(testdb.NewBudget(8), 4)
	p := NewPool(PoolConfig{}, sh, func(context.Context, Login) (*fakeConn, error) { return &fakeConn{}, nil }, nil)
	defer p.Close()
	defer sh.AddEvictor(p.EvictIdle)()
	var got []*Pooled[*fakeConn]
	for range 4 {
		pc, err := p.Get(context.Background(), Login{User: "u"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pc)
	}
	p.Put(got[0])
	p.Put(got[1]) // 2 idle, 2 busy
	sh.SetMax(1)
	testdb.Eventually(t, 10*time.Second, 5*time.Millisecond, "idle connections above the bound closed",
		func() bool { return sh.Held() == 2 && p.Stats().Idle == 0 })
	p.Put(got[2]) // returned while over the bound: closed
	if !got[2].Conn.closed.Load() || sh.Held() != 1 {
		t.Fatalf("returned above the bound: closed %v, held %d", got[2].Conn.closed.Load(), sh.Held())
	}
	p.Put(got[3]) // within the bound: kept
	if got[3].Conn.closed.Load() || p.Stats().Idle != 1 {
		t.Fatalf("returned within the bound: closed %v, idle %d", got[3].Conn.closed.Load(), p.Stats().Idle)
	}
	// A lowered idle bound trims at once.
	sh.SetMax(4)
	for i := range 3 {
		if got[i], _ = p.Get(context.Background(), Login{User: "u"}); got[i] == nil {
			t.Fatal("borrow failed")
		}
	}
	for i := range 3 {
		p.Put(got[i])
	}
	if p.Stats().Idle != 3 {
		t.Fatalf("idle %d, want 3", p.Stats().Idle)
	}
	p.SetMaxIdle(1)
	testdb.Eventually(t, 10*time.Second, 5*time.Millisecond, "idle trimmed to 1",
		func() bool { return p.Stats().Idle == 1 && sh.Held() == 1 })
}

// slowClose is a connection whose Close waits for gate, as a backend's
// close waits for the server to end the session.
type slowClose struct {
	gate            chan struct{}
	closing, closed atomic.Bool
}

func (c *slowClose) Close() error {
	c.closing.Store(true)
	<-c.gate
	c.closed.Store(true)
	return nil
}

func (c *slowClose) Broken() bool { return false }

// Two connections returned at once to a share one above its bound: the
// first closes, and while its close still waits the second is kept, not
// closed too (the first's slot counts as leaving).
func TestShare_ReturnedTogether(t *testing.T) {
	ctx := context.Background()
	sh := NewShare(testdb.NewBudget(8), 2)
	gate := make(chan struct{})
	p := NewPool(PoolConfig{}, sh, func(context.Context, Login) (*slowClose, error) { return &slowClose{gate: gate}, nil }, nil)
	defer p.Close()
	a, errA := p.Get(ctx, Login{User: "u"})
	b, errB := p.Get(ctx, Login{User: "u"})
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	sh.SetMax(1)
	first := make(chan struct{})
	go func() { p.Put(a); close(first) }()
	testdb.Eventually(t, 10*time.Second, time.Millisecond, "the first close to start", a.Conn.closing.Load)
	second := make(chan struct{})
	go func() { p.Put(b); close(second) }()
	select {
	case <-second:
	case <-time.After(5 * time.Second):
		close(gate)
		t.Fatal("the second connection returned was closed too (its Put waited for a close)")
	}
	if b.Conn.closing.Load() || p.Stats().Idle != 1 {
		t.Fatalf("second returned: closing %v, idle %d; want kept idle", b.Conn.closing.Load(), p.Stats().Idle)
	}
	close(gate)
	<-first
	if !a.Conn.closed.Load() || sh.Held() != 1 || sh.Over() {
		t.Fatalf("after the first close: closed %v, held %d, over %v", a.Conn.closed.Load(), sh.Held(), sh.Over())
	}
}
