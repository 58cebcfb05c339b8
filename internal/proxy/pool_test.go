package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// fakeConn is a Conn with function fields.
type fakeConn struct {
	id     int
	closed atomic.Bool
	broken bool
}

func (c *fakeConn) Close() error { c.closed.Store(true); return nil }
func (c *fakeConn) Broken() bool { return c.broken }

// semBudget is a Budget of n slots; over is what Over answers.
type semBudget struct {
	ch   chan struct{}
	over atomic.Bool
}

func (b *semBudget) TryReserve() (func(), bool) {
	select {
	case b.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-b.ch }) }, true
	default:
		return nil, false
	}
}

func (b *semBudget) Over() bool { return b.over.Load() }

func newSemBudget(n int) *semBudget { return &semBudget{ch: make(chan struct{}, n)} }

func (b *semBudget) Reserve(ctx context.Context) (func(), error) {
	select {
	case b.ch <- struct{}{}:
	default:
		select {
		case b.ch <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-b.ch }) }, nil
}

func newTestPool(t *testing.T, n int, cfg PoolConfig, dial DialFunc[*fakeConn]) (*Pool[*fakeConn], *semBudget) {
	b := newSemBudget(n)
	if dial == nil {
		var ids atomic.Int64
		dial = func(context.Context, Login) (*fakeConn, error) { return &fakeConn{id: int(ids.Add(1))}, nil }
	}
	p := NewPool(cfg, b, dial, nil)
	t.Cleanup(p.Close)
	return p, b
}

func TestPool_Get(t *testing.T) {
	ctx := context.Background()
	alice, bob := Login{User: "alice", Password: "a"}, Login{User: "bob", Password: "b"}
	t.Run("reuse", func(t *testing.T) {
		p, _ := newTestPool(t, 2, PoolConfig{}, nil)
		c1, err := p.Get(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		p.Put(c1)
		c2, err := p.Get(ctx, alice)
		if err != nil || c2 != c1 {
			t.Fatalf("got %v %v, want reuse", c2, err)
		}
		if st := p.Stats(); st.Busy != 1 || st.Idle != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
	// A connection that became broken while idle (its server is no longer
	// the writer) is closed on the next borrow, its slot reused.
	t.Run("broken while idle", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{BorrowTimeout: 5 * time.Second}, nil)
		c1, err := p.Get(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		p.Put(c1)
		c1.Conn.broken = true
		c2, err := p.Get(ctx, alice)
		if err != nil || c2 == c1 {
			t.Fatalf("got %v %v, want a new connection", c2, err)
		}
		testdb.Eventually(t, 5*time.Second, time.Millisecond, "broken idle connection closed", c1.Conn.closed.Load)
		if st := p.Stats(); st.Busy != 1 || st.Idle != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("borrow timeout", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{BorrowTimeout: 50 * time.Millisecond}, nil)
		c1, _ := p.Get(ctx, alice)
		if _, err := p.Get(ctx, alice); !errors.Is(err, ErrBorrowTimeout) || !Retryable(err) {
			t.Fatalf("got %v", err)
		}
		p.Put(c1)
	})
	t.Run("hand over to waiter", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{}, nil)
		c1, _ := p.Get(ctx, alice)
		got := make(chan *Pooled[*fakeConn])
		go func() {
			c, _ := p.Get(ctx, alice)
			got <- c
		}()
		testdb.Eventually(t, 5*time.Second, time.Millisecond, "a queued waiter", func() bool { return p.Stats().Waiting == 1 })
		p.Put(c1)
		if c := <-got; c != c1 {
			t.Fatal("waiter did not get the returned connection")
		}
	})
	t.Run("other login waits for a slot", func(t *testing.T) {
		p, b := newTestPool(t, 1, PoolConfig{}, nil)
		c1, _ := p.Get(ctx, alice)
		got := make(chan error)
		go func() {
			c, err := p.Get(ctx, bob)
			if err == nil {
				p.Put(c)
			}
			got <- err
		}()
		testdb.Eventually(t, 5*time.Second, time.Millisecond, "a queued waiter", func() bool { return p.Stats().Waiting == 1 })
		p.Put(c1) // closed so bob can open his own
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		if !c1.Conn.closed.Load() || len(b.ch) != 1 {
			t.Fatalf("closed=%v budget used=%d", c1.Conn.closed.Load(), len(b.ch))
		}
	})
	t.Run("idle of other login evicted", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{BorrowTimeout: time.Second}, nil)
		c1, _ := p.Get(ctx, alice)
		p.Put(c1)
		c2, err := p.Get(ctx, bob)
		if err != nil || c2.Login.User != "bob" {
			t.Fatal(err)
		}
	})
	t.Run("fail fast while down", func(t *testing.T) {
		var dials atomic.Int64
		p, b := newTestPool(t, 2, PoolConfig{RetryDelay: 200 * time.Millisecond}, func(context.Context, Login) (*fakeConn, error) {
			dials.Add(1)
			return nil, ErrBackendDown
		})
		for range 5 {
			if _, err := p.Get(ctx, alice); !errors.Is(err, ErrBackendDown) {
				t.Fatal(err)
			}
		}
		if dials.Load() != 1 || len(b.ch) != 0 {
			t.Fatalf("dials %d, budget used %d", dials.Load(), len(b.ch))
		}
	})
	t.Run("a timed-out dial is not down", func(t *testing.T) {
		// An overloaded database that answers too slowly fails the one
		// borrow whose dial timed out; the next borrow dials again.
		var dials atomic.Int64
		p, _ := newTestPool(t, 2, PoolConfig{RetryDelay: time.Hour}, func(context.Context, Login) (*fakeConn, error) {
			dials.Add(1)
			return nil, fmt.Errorf("%w: %w", ErrBackendDown, context.DeadlineExceeded)
		})
		for range 3 {
			if _, err := p.Get(ctx, alice); !errors.Is(err, ErrBackendDown) {
				t.Fatal(err)
			}
		}
		if dials.Load() != 3 {
			t.Fatalf("dials %d, want one per borrow", dials.Load())
		}
	})
	t.Run("broken discarded", func(t *testing.T) {
		p, b := newTestPool(t, 1, PoolConfig{}, nil)
		c1, _ := p.Get(ctx, alice)
		c1.Conn.broken = true
		p.Put(c1)
		if !c1.Conn.closed.Load() || len(b.ch) != 0 || p.Stats().Idle != 0 {
			t.Fatal("broken connection kept")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		p, b := newTestPool(t, 3, PoolConfig{}, nil)
		var wg sync.WaitGroup
		var max atomic.Int64
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := alice
				if i%3 == 0 {
					l = bob
				}
				for range 20 {
					c, err := p.Get(ctx, l)
					if err != nil {
						t.Error(err)
						return
					}
					if n := int64(len(b.ch)); n > max.Load() {
						max.Store(n)
					}
					p.Put(c)
				}
			}()
		}
		wg.Wait()
		if max.Load() > 3 {
			t.Fatalf("budget exceeded: %d", max.Load())
		}
	})
}

// loginErr is a refused login as the front ends' dialers report it.
type loginErr struct{ state string }

func (e loginErr) Error() string    { return "login refused " + e.state }
func (e loginErr) SQLState() string { return e.state }

func TestPool_Relogin(t *testing.T) {
	ctx := context.Background()
	old, cur := Login{User: "app", Password: "one", SecretARN: "s"}, Login{User: "app", Password: "two", SecretARN: "s"}
	var dials []string
	dial := func(_ context.Context, l Login) (*fakeConn, error) {
		dials = append(dials, l.Password)
		if l.Password != "two" {
			return nil, loginErr{"28P01"}
		}
		return &fakeConn{}, nil
	}
	relogin := func(_ context.Context, failed Login) (Login, bool) { return cur, failed.Password != cur.Password }
	p, _ := newTestPool(t, 2, PoolConfig{Relogin: relogin}, dial)
	pc, err := p.Get(ctx, old)
	if err != nil || pc.Login != cur {
		t.Fatalf("Get(old login) = %+v, %v; dials %v", pc, err, dials)
	}
	p.Put(pc)
	// The connection stays under the borrower's key: no new dial.
	if pc2, err := p.Get(ctx, old); err != nil || pc2 != pc || len(dials) != 2 {
		t.Fatalf("second Get = %v, %v; dials %v", pc2, err, dials)
	}
	// Other failures and logins with nothing else to try are not retried.
	dials = nil
	p2, _ := newTestPool(t, 2, PoolConfig{Relogin: relogin}, func(_ context.Context, l Login) (*fakeConn, error) {
		dials = append(dials, l.Password)
		return nil, loginErr{"53300"}
	})
	if _, err := p2.Get(ctx, old); err == nil || len(dials) != 1 {
		t.Fatalf("non-login failure: %v, dials %v", err, dials)
	}
	if !LoginRefused(fmt.Errorf("connect: %w", loginErr{"28000"})) || LoginRefused(errors.New("x")) {
		t.Fatal("LoginRefused")
	}
}

// TestPool_PutOverBudget: while the budget is over its limit (lowered, or
// the node's lease shrank) a returned connection is closed and its slot
// freed, even with a waiter of the same login, instead of being kept.
func TestPool_PutOverBudget(t *testing.T) {
	ctx := context.Background()
	p, b := newTestPool(t, 2, PoolConfig{}, nil)
	login := Login{User: "alice", Password: "a"}
	c1, err := p.Get(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := p.Get(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	b.over.Store(true)
	p.Put(c1)
	if !c1.Conn.closed.Load() || len(b.ch) != 1 || p.Stats().Idle != 0 {
		t.Fatalf("over budget: closed %v, slots held %d, idle %d; want closed, 1, 0", c1.Conn.closed.Load(), len(b.ch), p.Stats().Idle)
	}
	b.over.Store(false)
	p.Put(c2)
	if c2.Conn.closed.Load() || p.Stats().Idle != 1 {
		t.Fatalf("within budget: closed %v, idle %d; want kept idle", c2.Conn.closed.Load(), p.Stats().Idle)
	}
}
