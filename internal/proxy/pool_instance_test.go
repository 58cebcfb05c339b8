package proxy

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// fakeInstances is a Budget with Instances: n slots per address, the
// writer's by default.
type fakeInstances struct {
	mu     sync.Mutex
	writer string
	by     map[string]*testdb.Budget
}

func newFakeInstances(n int, writer string, addrs ...string) *fakeInstances {
	f := &fakeInstances{writer: writer, by: map[string]*testdb.Budget{}}
	for _, a := range addrs {
		f.by[a] = testdb.NewBudget(n)
	}
	return f
}

func (f *fakeInstances) Instance(addr string) (Budget, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if addr == "" {
		addr = f.writer
	}
	return f.by[addr], addr
}

func (f *fakeInstances) setWriter(addr string) { f.mu.Lock(); f.writer = addr; f.mu.Unlock() }

func (f *fakeInstances) w() Budget                                   { b, _ := f.Instance(""); return b }
func (f *fakeInstances) TryReserve() (func(), bool)                  { return f.w().TryReserve() }
func (f *fakeInstances) Reserve(ctx context.Context) (func(), error) { return f.w().Reserve(ctx) }
func (f *fakeInstances) Over() bool                                  { return f.w().Over() }

// TestPool_InstanceBudgets: over a budget with Instances, through a
// Share, a writer pool's connections take the current writer's slots and
// dial that writer; a routed pool's take the slots of the instance
// picked; each instance is full at its own n; idle connections are
// evicted and waiters counted per instance.
func TestPool_InstanceBudgets(t *testing.T) {
	ctx := context.Background()
	budgets := newFakeInstances(2, "w:1", "w:1", "r:1")
	share := NewShare(budgets, 0)
	dial := func(_ context.Context, l Login) (*addrConn, error) { return &addrConn{addr: l.Instance}, nil }
	writer := NewPool(PoolConfig{BorrowTimeout: 5 * time.Second}, share, dial, nil)
	t.Cleanup(writer.Close)
	reader := NewPool(PoolConfig{BorrowTimeout: 100 * time.Millisecond, Route: newFakeRoute("r:1")}, share, dial, nil)
	t.Cleanup(reader.Close)
	alice := Login{User: "alice", Password: "a"}

	var held []*Pooled[*addrConn]
	for _, p := range []*Pool[*addrConn]{writer, writer, reader, reader} {
		pc, err := p.Get(ctx, alice)
		if err != nil {
			t.Fatalf("borrow %d: %v (each instance has 2 slots)", len(held)+1, err)
		}
		held = append(held, pc)
	}
	for i, want := range []string{"w:1", "w:1", "r:1", "r:1"} {
		if got := held[i].Conn.addr; got != want {
			t.Fatalf("connection %d dialled %q, want %q", i, got, want)
		}
	}
	if w, r := budgets.by["w:1"].Used(), budgets.by["r:1"].Used(); w != 2 || r != 2 {
		t.Fatalf("slots used: w:1 %d, r:1 %d; want 2 and 2", w, r)
	}
	if _, err := reader.Get(ctx, alice); !errors.Is(err, ErrBorrowTimeout) {
		t.Fatalf("a third reader borrow: %v, want the borrow timeout", err)
	}

	// A waiter counts on the instance it waits for.
	got := make(chan error, 1)
	go func() {
		pc, err := writer.Get(ctx, Login{User: "bob", Password: "b"})
		if err == nil {
			writer.Put(pc)
		}
		got <- err
	}()
	testdb.Eventually(t, 5*time.Second, time.Millisecond, "bob waiting on w:1", func() bool { return share.WaitingTo("w:1") == 1 })
	if n := share.WaitingTo("r:1"); n != 0 {
		t.Fatalf("waiting on r:1 = %d, want 0", n)
	}
	writer.Put(held[0]) // closed for bob, who opens his own
	if err := <-got; err != nil {
		t.Fatal(err)
	}

	// Idle connections give their slots back per instance.
	reader.Put(held[2])
	if st := writer.Stats(); st.Idle != 1 || budgets.by["w:1"].Used() != 2 {
		t.Fatalf("writer pool %+v with %d w:1 slots, want bob's idle connection and 2", st, budgets.by["w:1"].Used())
	}
	if !share.EvictIdleTo("r:1") || share.EvictIdleTo("r:1") {
		t.Fatal("EvictIdleTo(r:1) did not close exactly the one idle reader connection")
	}
	testdb.Eventually(t, 5*time.Second, time.Millisecond, "the reader slot freed", func() bool { return budgets.by["r:1"].Used() == 1 })
	if budgets.by["w:1"].Used() != 2 || writer.Stats().Idle != 1 {
		t.Fatal("evicting for the reader touched the writer's idle connection")
	}

	// After a failover new writer connections draw on (and dial) the new
	// writer; the old one's slot goes back to it when it closes.
	budgets.setWriter("r:1")
	pc, err := writer.Get(ctx, Login{User: "carol", Password: "c"})
	if err != nil || pc.Conn.addr != "r:1" {
		t.Fatalf("writer borrow after the failover: %v, %v; want a connection to r:1", pc, err)
	}
	if budgets.by["r:1"].Used() != 2 {
		t.Fatalf("r:1 slots after the failover borrow: %d, want 2", budgets.by["r:1"].Used())
	}
	held[1].Conn.broken = true // stale: its instance is no longer the writer
	writer.Put(held[1])
	testdb.Eventually(t, 5*time.Second, time.Millisecond, "the old writer's slot back", func() bool { return budgets.by["w:1"].Used() == 1 })

	// max_connections_percent bounds each instance's share: lowered to 1,
	// a connection returned to r:1 (2 held) is closed, and the idle one
	// to w:1 (1 held) stays.
	share.SetMax(1)
	writer.Put(pc)
	testdb.Eventually(t, 5*time.Second, time.Millisecond, "r:1 back under the share", func() bool { return budgets.by["r:1"].Used() == 1 })
	if writer.Stats().Idle != 1 || budgets.by["w:1"].Used() != 1 {
		t.Fatalf("w:1 under its share lost its idle connection: %+v, %d used", writer.Stats(), budgets.by["w:1"].Used())
	}
}
