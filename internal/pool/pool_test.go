package pool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// fakeEngine counts open connections; fields make it scriptable.
type fakeEngine struct {
	open, total atomic.Int64
	connectErr  error
}

func (e *fakeEngine) Connect(ctx context.Context, c engine.Credentials) (engine.Conn, error) {
	if e.connectErr != nil {
		return nil, e.connectErr
	}
	e.open.Add(1)
	e.total.Add(1)
	return &fakeConn{e: e}, nil
}
func (e *fakeEngine) Name() string { return "fake" }
func (e *fakeEngine) Close() error { return nil }

type fakeConn struct {
	e      *fakeEngine
	broken bool
	closed bool
}

func (c *fakeConn) Exec(ctx context.Context, sql string, p []engine.Param, max int) (*engine.Result, error) {
	return &engine.Result{}, nil
}
func (c *fakeConn) Begin(context.Context) error    { return nil }
func (c *fakeConn) Commit(context.Context) error   { return nil }
func (c *fakeConn) Rollback(context.Context) error { return nil }
func (c *fakeConn) ID() int64                      { return 1 }
func (c *fakeConn) Ping(context.Context) error     { return nil }
func (c *fakeConn) Broken() bool                   { return c.broken }
func (c *fakeConn) Dirty() bool                    { return false }
func (c *fakeConn) Reset(context.Context) error    { return nil }
func (c *fakeConn) Close() error {
	if !c.closed {
		c.closed = true
		c.e.open.Add(-1)
	}
	return nil
}

var alice = engine.Credentials{User: "alice", Password: "pw"}

func TestPool_Borrow(t *testing.T) {
	t.Run("reuses idle connection", func(t *testing.T) {
		e := &fakeEngine{}
		p := New(e, Config{Max: 2})
		defer p.Close()
		c, err := p.Borrow(context.Background(), alice)
		if err != nil {
			t.Fatal(err)
		}
		p.Release(c)
		c2, _ := p.Borrow(context.Background(), alice)
		p.Release(c2)
		if got := e.total.Load(); got != 1 {
			t.Fatalf("connections opened = %d, want 1", got)
		}
	})
	t.Run("waits then times out at budget", func(t *testing.T) {
		e := &fakeEngine{}
		p := New(e, Config{Max: 1})
		defer p.Close()
		c, _ := p.Borrow(context.Background(), alice)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := p.Borrow(ctx, alice); !errors.Is(err, ErrExhausted) {
			t.Fatalf("err = %v, want ErrExhausted", err)
		}
		p.Release(c)
		if st := p.Stats(); st.Waiting != 0 || st.Idle != 1 || st.Busy != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})
	t.Run("other login evicts idle connection", func(t *testing.T) {
		e := &fakeEngine{}
		p := New(e, Config{Max: 1})
		defer p.Close()
		c, _ := p.Borrow(context.Background(), alice)
		p.Release(c)
		bob := engine.Credentials{User: "bob"}
		c2, err := p.Borrow(context.Background(), bob)
		if err != nil {
			t.Fatal(err)
		}
		p.Release(c2)
		if got := e.open.Load(); got != 1 {
			t.Fatalf("open = %d, want 1", got)
		}
	})
	t.Run("broken connection is closed not reused", func(t *testing.T) {
		e := &fakeEngine{}
		p := New(e, Config{Max: 1})
		defer p.Close()
		c, _ := p.Borrow(context.Background(), alice)
		c.Conn.(*fakeConn).broken = true
		p.Release(c)
		if got := e.open.Load(); got != 0 {
			t.Fatalf("open = %d, want 0", got)
		}
	})
	t.Run("connect error frees the slot", func(t *testing.T) {
		e := &fakeEngine{connectErr: errors.New("refused")}
		p := New(e, Config{Max: 1})
		defer p.Close()
		for i := 0; i < 3; i++ {
			if _, err := p.Borrow(context.Background(), alice); err == nil {
				t.Fatal("want error")
			}
		}
		if st := p.Stats(); st.Busy != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestPool_Concurrent(t *testing.T) {
	e := &fakeEngine{}
	p := New(e, Config{Max: 5})
	var wg sync.WaitGroup
	var maxOpen atomic.Int64
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			creds := alice
			if i%3 == 0 {
				creds.User = "bob"
			}
			c, err := p.Borrow(context.Background(), creds)
			if err != nil {
				t.Error(err)
				return
			}
			if n := e.open.Load(); n > maxOpen.Load() {
				maxOpen.Store(n)
			}
			testdb.Elapse(time.Millisecond)
			p.Release(c)
		}(i)
	}
	wg.Wait()
	if maxOpen.Load() > 5 {
		t.Fatalf("open connections peaked at %d, budget 5", maxOpen.Load())
	}
	p.Close()
	if got := e.open.Load(); got != 0 {
		t.Fatalf("open after Close = %d, want 0", got)
	}
}

func TestPool_Reserve(t *testing.T) {
	e := &fakeEngine{}
	p := New(e, Config{Max: 2})
	defer p.Close()
	c, _ := p.Borrow(context.Background(), alice)
	p.Release(c) // one idle engine connection
	r1, err := p.Reserve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r2, err := p.Reserve(context.Background()) // evicts the idle connection
	if err != nil {
		t.Fatal(err)
	}
	if got := e.open.Load(); got != 0 {
		t.Fatalf("engine connections = %d, want 0 (evicted)", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := p.Borrow(ctx, alice); !errors.Is(err, ErrExhausted) {
		t.Fatalf("borrow over budget: %v", err)
	}
	r1()
	r1() // idempotent
	c, err = p.Borrow(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	p.Release(c)
	r2()
	if st := p.Stats(); st.Busy != 0 || st.Idle != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestPool_Evictor(t *testing.T) {
	e := &fakeEngine{}
	p := New(e, Config{Max: 1})
	defer p.Close()
	release, err := p.Reserve(context.Background()) // an idle proxy connection holds the only slot
	if err != nil {
		t.Fatal(err)
	}
	evicted := 0
	p.AddEvictor(func() bool {
		if release == nil {
			return false
		}
		evicted++
		r := release
		release = nil
		r()
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := p.Borrow(ctx, alice)
	if err != nil {
		t.Fatalf("borrow with an evictable slot: %v", err)
	}
	p.Release(c)
	if evicted != 1 {
		t.Fatalf("evicted = %d, want 1", evicted)
	}
}

// TestPool_BorrowWithin: a fresh idle connection is handed over at once;
// an exhausted pool still times out after the given wait.
func TestPool_BorrowWithin(t *testing.T) {
	e := &fakeEngine{}
	p := New(e, Config{Max: 1})
	defer p.Close()
	ctx := context.Background()
	c, err := p.BorrowWithin(ctx, alice, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p.Release(c)
	c, err = p.BorrowWithin(ctx, alice, time.Second)
	if err != nil || e.total.Load() != 1 {
		t.Fatalf("second borrow: %v, %d connections opened", err, e.total.Load())
	}
	if _, err := p.BorrowWithin(ctx, alice, 10*time.Millisecond); !errors.Is(err, ErrExhausted) {
		t.Fatalf("exhausted pool: %v, want ErrExhausted", err)
	}
	p.Release(c)
}

func BenchmarkBorrowWithinRelease(b *testing.B) {
	p := New(&fakeEngine{}, Config{Max: 4})
	defer p.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := p.BorrowWithin(ctx, alice, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		p.Release(c)
	}
}
