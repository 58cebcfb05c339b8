package topology

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/pool"
)

// liveConn is a healthy connection to addr.
type liveConn struct {
	fakeConn
}

func (liveConn) Broken() bool { return false }

type liveEngine struct{ addr string }

func (e liveEngine) Connect(context.Context, engine.Credentials) (engine.Conn, error) {
	return liveConn{fakeConn{addr: e.addr}}, nil
}
func (liveEngine) Name() string { return "postgres" }
func (liveEngine) Close() error { return nil }

// TestWriterEngine_InstanceBudgets: the writer's connections take slots
// of the writer's budget only; after the writer moved the old ones
// report Broken and give their slots back to the old writer as they
// close, while new ones draw on the new writer's budget.
func TestWriterEngine_InstanceBudgets(t *testing.T) {
	var mu sync.Mutex
	writer := "a:1"
	cur := func() string { mu.Lock(); defer mu.Unlock(); return writer }
	budgets := pool.NewInstances([]string{"a:1", "b:1"}, cur, 2)
	t.Cleanup(budgets.Close)
	e := NewWriterEngine("postgres", cur, budgets, func(addr string) engine.Engine { return liveEngine{addr} })
	ctx := context.Background()
	var old []engine.Conn
	for range 2 {
		c, err := e.Connect(ctx, engine.Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, c)
	}
	if a, b := budgets.Of("a:1").Open(), budgets.Of("b:1").Open(); a != 2 || b != 0 {
		t.Fatalf("slots held: a:1 %d, b:1 %d; want 2 and 0", a, b)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := e.Connect(short, engine.Credentials{}); !errors.Is(err, pool.ErrExhausted) {
		t.Fatalf("a third connection to a writer of budget 2: %v, want ErrExhausted", err)
	}
	// b:1 has a budget of its own: a reader door holds both its slots
	// while the writer's are taken.
	for range 2 {
		if _, err := budgets.ReserveOn(ctx, "b:1"); err != nil {
			t.Fatalf("reader slot while the writer's budget is full: %v", err)
		}
	}
	if _, err := budgets.ReserveOn(ctx, "c:1"); err == nil {
		t.Fatal("a slot of an address outside the cluster was given")
	}

	mu.Lock()
	writer = "b:1"
	mu.Unlock()
	for _, c := range old {
		if !c.Broken() || c.Ping(ctx) == nil {
			t.Fatal("a connection to the old writer is not Broken after the writer moved")
		}
		if a, _ := AddressOf(c); a != "a:1" {
			t.Fatalf("AddressOf = %q, want a:1", a)
		}
		_ = c.Close()
		_ = c.Close() // the slot is given back once
	}
	if a := budgets.Of("a:1").Open(); a != 0 {
		t.Fatalf("old writer's slots held after its connections closed: %d", a)
	}
	short2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := e.Connect(short2, engine.Credentials{}); !errors.Is(err, pool.ErrExhausted) {
		t.Fatalf("connect to the new writer whose budget is full: %v, want ErrExhausted", err)
	}
}
