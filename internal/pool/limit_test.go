package pool

import (
	"context"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestPool_SetLease: lowering the lease closes idle connections at once
// and busy ones as they come back; raising it wakes a waiter per new
// slot; removing it leaves Max.
func TestPool_SetLease(t *testing.T) {
	e := &fakeEngine{}
	p := New(e, Config{Max: 5})
	defer p.Close()
	ctx := context.Background()
	var busy []*Conn
	for range 4 {
		c, err := p.Borrow(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		busy = append(busy, c)
	}
	p.Release(busy[3]) // 3 busy, 1 idle
	busy = busy[:3]
	p.SetLease(2)
	if e.open.Load() != 3 || !p.Over() || p.Limit() != 2 || p.Max() != 5 {
		t.Fatalf("after SetLease(2): open %d, over %v, limit %d, max %d; want 3 (idle closed), true, 2, 5",
			e.open.Load(), p.Over(), p.Limit(), p.Max())
	}
	if _, ok := p.TryReserve(); ok {
		t.Fatal("TryReserve over the lease succeeded")
	}
	p.Release(busy[0]) // above the limit: closed, not kept
	if e.open.Load() != 2 || p.Over() || p.Stats().Idle != 0 {
		t.Fatalf("after one release: open %d, over %v, stats %+v; want 2, false, no idle", e.open.Load(), p.Over(), p.Stats())
	}
	p.Release(busy[1]) // at the limit: kept idle
	if e.open.Load() != 2 || p.Stats().Idle != 1 {
		t.Fatalf("after the second release: open %d, stats %+v", e.open.Load(), p.Stats())
	}
	p.Release(busy[2])

	// A lease of 0 makes borrowers wait; raising it to 4 serves four.
	p.SetLease(0)
	if e.open.Load() != 0 || p.Open() != 0 {
		t.Fatalf("lease 0: %d connections open", e.open.Load())
	}
	got := make(chan error, 4)
	for range 4 {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			c, err := p.Borrow(ctx, alice)
			if err == nil {
				p.Release(c)
			}
			got <- err
		}()
	}
	testdb.Eventually(t, 30*time.Second, time.Millisecond, "four waiters", func() bool { return p.Stats().Waiting == 4 })
	if d := p.Demand(); d != 4 {
		t.Fatalf("demand with 4 waiting = %d", d)
	}
	p.SetLease(4)
	for range 4 {
		if err := <-got; err != nil {
			t.Fatalf("waiter after SetLease(4): %v", err)
		}
	}
	p.SetLease(-1)
	if p.Limit() != 5 {
		t.Fatalf("limit without lease = %d, want Max 5", p.Limit())
	}
}

// TestPool_TryReserveAndDemand: TryReserve takes a free slot or fails at
// once; Demand counts busy connections, waiters and registered queues.
func TestPool_TryReserveAndDemand(t *testing.T) {
	p := New(&fakeEngine{}, Config{Max: 2})
	defer p.Close()
	r1, ok1 := p.TryReserve()
	r2, ok2 := p.TryReserve()
	if !ok1 || !ok2 {
		t.Fatal("TryReserve with free slots failed")
	}
	if _, ok := p.TryReserve(); ok {
		t.Fatal("TryReserve of a full budget succeeded")
	}
	remove := p.AddWaiting(func() int { return 3 })
	if d := p.Demand(); d != 5 {
		t.Fatalf("demand = %d, want 2 held + 3 queued", d)
	}
	remove()
	r1()
	r2()
	if d, o := p.Demand(), p.Open(); d != 0 || o != 0 {
		t.Fatalf("after release: demand %d, open %d", d, o)
	}
}
