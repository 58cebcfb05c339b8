package proxy

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// chanWaiter is a Waiter reporting on a channel.
type chanWaiter struct {
	got chan readyCall
}

type readyCall struct {
	pc  *Pooled[*fakeConn]
	err error
}

func newChanWaiter() *chanWaiter { return &chanWaiter{got: make(chan readyCall, 1)} }

func (w *chanWaiter) Ready(pc *Pooled[*fakeConn], err error) { w.got <- readyCall{pc, err} }

func TestPool_Enqueue(t *testing.T) {
	ctx := context.Background()
	alice, bob := Login{User: "alice", Password: "a"}, Login{User: "bob", Password: "b"}
	t.Run("idle at once, else Get", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{}, nil)
		w := newChanWaiter()
		if pc, queued, err := p.Enqueue(alice, w); pc != nil || queued || err != nil {
			t.Fatalf("empty pool with room: %v %v %v, want Get's turn", pc, queued, err)
		}
		c1, _ := p.Get(ctx, alice)
		p.Put(c1)
		if pc, queued, err := p.Enqueue(alice, w); pc != c1 || queued || err != nil {
			t.Fatalf("got %v %v %v, want the idle one", pc, queued, err)
		}
		if pc, queued, err := p.Enqueue(bob, w); pc != nil || queued || err != nil {
			t.Fatalf("other login with nothing busy: %v %v %v, want Get's turn", pc, queued, err)
		}
	})
	t.Run("Put hands over in FIFO order on its goroutine", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{}, nil)
		c1, _ := p.Get(ctx, alice)
		w1, w2 := newChanWaiter(), newChanWaiter()
		for _, w := range []*chanWaiter{w1, w2} {
			if _, queued, err := p.Enqueue(alice, w); !queued || err != nil {
				t.Fatalf("not queued: %v", err)
			}
		}
		if st := p.Stats(); st.Waiting != 2 {
			t.Fatalf("stats %+v", st)
		}
		p.Put(c1)
		select { // Ready ran inside Put
		case r := <-w1.got:
			if r.pc != c1 || r.err != nil {
				t.Fatalf("got %+v", r)
			}
		default:
			t.Fatal("Put returned before the first waiter's Ready")
		}
		p.Put(c1)
		if r := <-w2.got; r.pc != c1 {
			t.Fatalf("second waiter got %+v", r)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{}, nil)
		c1, _ := p.Get(ctx, alice)
		w := newChanWaiter()
		_, _, _ = p.Enqueue(alice, w)
		if !p.Cancel(alice, w) || p.Cancel(alice, w) {
			t.Fatal("cancel: want true once")
		}
		p.Put(c1)
		if st := p.Stats(); st.Idle != 1 || st.Waiting != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("borrow timeout from the sweep", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{BorrowTimeout: 30 * time.Millisecond}, nil)
		c1, _ := p.Get(ctx, alice)
		w := newChanWaiter()
		_, _, _ = p.Enqueue(alice, w)
		if r := <-w.got; !errors.Is(r.err, ErrBorrowTimeout) || r.pc != nil {
			t.Fatalf("got %+v", r)
		}
		p.Put(c1)
		if st := p.Stats(); st.Idle != 1 || st.Waiting != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("grows when a slot frees", func(t *testing.T) {
		p, b := newTestPool(t, 2, PoolConfig{}, nil)
		c1, _ := p.Get(ctx, alice)
		release, _ := b.Reserve(ctx) // someone else holds the second slot
		w := newChanWaiter()
		if _, queued, _ := p.Enqueue(alice, w); !queued {
			t.Fatal("not queued")
		}
		release()
		r := <-w.got
		if r.err != nil || r.pc == nil || r.pc == c1 {
			t.Fatalf("got %+v, want a new connection", r)
		}
	})
	t.Run("close fails waiters", func(t *testing.T) {
		p, _ := newTestPool(t, 1, PoolConfig{}, nil)
		_, _ = p.Get(ctx, alice)
		w := newChanWaiter()
		_, _, _ = p.Enqueue(alice, w)
		p.Close()
		if r := <-w.got; !errors.Is(r.err, ErrPoolClosed) {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("concurrent with Get", func(t *testing.T) {
		p, b := newTestPool(t, 3, PoolConfig{}, nil)
		var wg sync.WaitGroup
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 30 {
					w := newChanWaiter()
					pc, queued, err := p.Enqueue(alice, w)
					switch {
					case err != nil:
						t.Error(err)
						return
					case queued:
						r := <-w.got
						pc, err = r.pc, r.err
					case pc == nil:
						pc, err = p.Get(ctx, alice)
					}
					if err != nil {
						t.Error(err)
						return
					}
					if b.Used() > 3 {
						t.Error("budget exceeded")
					}
					p.Put(pc)
				}
			}()
		}
		wg.Wait()
		if st := p.Stats(); st.Busy != 0 || st.Waiting != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}
