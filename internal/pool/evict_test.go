package pool

import (
	"context"
	"testing"
	"time"
)

// TestPool_EvictIdle: a pool whose connections hold another pool's
// budget slots gives them back when that pool needs one.
func TestPool_EvictIdle(t *testing.T) {
	budget := New(&fakeEngine{}, Config{Max: 1})
	defer budget.Close()
	e := &fakeEngine{}
	other := New(e, Config{Max: 5})
	defer other.Close()
	if other.EvictIdle() {
		t.Fatal("evicted from an empty pool")
	}
	release, err := budget.Reserve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, err := other.Borrow(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	other.Release(c)
	closeFreesSlot := c.Conn.(*fakeConn)
	budget.AddEvictor(func() bool {
		if other.EvictIdle() {
			release() // the evicted connection's slot
			return true
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := budget.Borrow(ctx, alice)
	if err != nil {
		t.Fatalf("borrow with the budget held by an idle connection of the other pool: %v", err)
	}
	budget.Release(got)
	if !closeFreesSlot.closed || e.open.Load() != 0 {
		t.Fatal("the other pool's idle connection was not closed")
	}
	if st := other.Stats(); st.Idle != 0 || st.Busy != 0 {
		t.Fatalf("other pool after eviction: %+v", st)
	}
	// Its own budget counts the eviction: a new connection may open.
	c, err = other.Borrow(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	other.Release(c)
}
