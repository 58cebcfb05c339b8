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

// fakeRoute picks the instance with the fewest picks outstanding among
// those not down, ties in turn (as topology.Balancer does).
type fakeRoute struct {
	mu    sync.Mutex
	addrs []string
	open  map[string]int
	down  map[string]bool
	turn  int
}

func newFakeRoute(addrs ...string) *fakeRoute {
	return &fakeRoute{addrs: addrs, open: map[string]int{}, down: map[string]bool{}}
}

func (r *fakeRoute) Pick() (string, func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cands []string
	for _, a := range r.addrs {
		if !r.down[a] {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		return "", nil, errors.New("every reader is down")
	}
	addr := cands[r.turn%len(cands)]
	for i := 1; i < len(cands); i++ {
		if c := cands[(r.turn+i)%len(cands)]; r.open[c] < r.open[addr] {
			addr = c
		}
	}
	r.turn++
	r.open[addr]++
	var once sync.Once
	return addr, func() {
		once.Do(func() {
			r.mu.Lock()
			r.open[addr]--
			r.mu.Unlock()
		})
	}, nil
}

func (r *fakeRoute) Serves(addr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.addrs {
		if a == addr {
			return !r.down[addr]
		}
	}
	return false
}

func (r *fakeRoute) Down(addr string, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down[addr] = true
}

func (r *fakeRoute) Connected(string) func() { return func() {} }

// outstanding returns the picks not yet ended, by address.
func (r *fakeRoute) outstanding() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for a, n := range r.open {
		if n != 0 {
			out[a] = n
		}
	}
	return out
}

// addrConn is a fake backend connection that knows its instance.
type addrConn struct {
	fakeConn
	addr string
}

// routedPool returns a pool over route whose dials fail for the
// instances in dead (ErrBackendDown, like a refused connection).
func routedPool(t *testing.T, n int, route *fakeRoute, dead ...string) (*Pool[*addrConn], *atomic.Int64) {
	var dials atomic.Int64
	dial := func(_ context.Context, l Login) (*addrConn, error) {
		dials.Add(1)
		for _, d := range dead {
			if l.Instance == d {
				return nil, fmt.Errorf("connect %s: %w: connection refused", d, ErrBackendDown)
			}
		}
		return &addrConn{addr: l.Instance}, nil
	}
	p := NewPool(PoolConfig{BorrowTimeout: 5 * time.Second, Route: route}, testdb.NewBudget(n), dial, nil)
	t.Cleanup(p.Close)
	return p, &dials
}

func TestTarget(t *testing.T) {
	writer := func() string { return "w:1" }
	for _, c := range []struct {
		instance string
		writer   func() string
		want     string
	}{{"", nil, "fixed:1"}, {"", writer, "w:1"}, {"r:1", writer, "r:1"}} {
		if got := Target(c.instance, c.writer, "fixed:1"); got != c.want {
			t.Errorf("Target(%q) = %q, want %q", c.instance, got, c.want)
		}
	}
	r := newFakeRoute("r:1")
	if Stale(r, writer, "r:1") || !Stale(r, writer, "w:1") || !Stale(nil, writer, "r:1") || Stale(nil, nil, "x:1") {
		t.Fatal("Stale: want a connection stale once its route or writer moved")
	}
}

func TestPool_Route(t *testing.T) {
	ctx := context.Background()
	alice := Login{User: "alice", Password: "a"}
	// Once a connection to each reader is idle, successive transactions
	// still alternate between the readers instead of reusing the last
	// connection returned, and every pick ends with its borrow.
	t.Run("per transaction", func(t *testing.T) {
		r := newFakeRoute("r:1", "r:2")
		p, dials := routedPool(t, 4, r)
		c1, _ := p.Get(ctx, alice)
		c2, _ := p.Get(ctx, alice)
		if c1.Conn.addr == c2.Conn.addr {
			t.Fatalf("two open transactions on %s, want one per reader", c1.Conn.addr)
		}
		p.Put(c1)
		p.Put(c2)
		got := map[string]int{}
		for range 10 {
			pc, err := p.Get(ctx, alice)
			if err != nil {
				t.Fatal(err)
			}
			if pc.Login.Instance != pc.Conn.addr {
				t.Fatalf("borrow routed to %s got a connection to %s", pc.Login.Instance, pc.Conn.addr)
			}
			got[pc.Conn.addr]++
			p.Put(pc)
		}
		if got["r:1"] != 5 || got["r:2"] != 5 || dials.Load() != 2 {
			t.Fatalf("10 transactions: %v over %d dials, want 5 each on the 2 idle connections", got, dials.Load())
		}
		if o := r.outstanding(); len(o) != 0 {
			t.Fatalf("picks outstanding after every Put: %v", o)
		}
	})
	// A reader that refuses connections between health checks is marked
	// down and the borrow goes to the other one; with none left the error
	// says no reader is available and is retryable.
	t.Run("dead reader", func(t *testing.T) {
		r := newFakeRoute("r:1", "r:2")
		p, _ := routedPool(t, 4, r, "r:1")
		for range 3 {
			pc, err := p.Get(ctx, alice)
			if err != nil || pc.Conn.addr != "r:2" {
				t.Fatalf("got %v %v, want a connection to r:2", pc, err)
			}
			p.Put(pc)
		}
		if r.Serves("r:1") {
			t.Fatal("the dead reader was not marked down")
		}
		r.Down("r:2", errors.New("stopped"))
		_, err := p.Get(ctx, alice)
		if !errors.Is(err, ErrNoReader) || !errors.Is(err, ErrBackendDown) || !Retryable(err) {
			t.Fatalf("no reader left: %v, want ErrNoReader, retryable", err)
		}
		if o := r.outstanding(); len(o) != 0 {
			t.Fatalf("picks outstanding: %v", o)
		}
	})
	// A queued borrow takes over the pick of its routed connection; a
	// cancelled one gives its pick back.
	t.Run("queued", func(t *testing.T) {
		r := newFakeRoute("r:1")
		p, _ := routedPool(t, 1, r)
		c1, _ := p.Get(ctx, alice)
		w := &routeWaiter{got: make(chan *Pooled[*addrConn], 1)}
		if _, queued, err := p.Enqueue(alice, w); !queued || err != nil {
			t.Fatalf("not queued: %v", err)
		}
		if o := r.outstanding(); o["r:1"] != 2 {
			t.Fatalf("outstanding %v, want the borrow and the queued one", o)
		}
		p.Put(c1)
		if pc := <-w.got; pc != c1 || r.outstanding()["r:1"] != 1 {
			t.Fatalf("handed %v, outstanding %v; want c1 with one pick", pc, r.outstanding())
		}
		w2 := &routeWaiter{got: make(chan *Pooled[*addrConn], 1)}
		if _, queued, _ := p.Enqueue(alice, w2); !queued || !p.Cancel(alice, w2) {
			t.Fatal("want queued, then cancelled")
		}
		p.Put(c1)
		if o := r.outstanding(); len(o) != 0 {
			t.Fatalf("picks outstanding: %v", o)
		}
	})
}

// Successive borrows through Enqueue, as the front ends make them,
// alternate too when each has to open its connection (nothing idle: each
// is closed after use): the instance picked is the one dialled, not a
// second pick's, which would always be the other one.
func TestPool_RouteEnqueueOpens(t *testing.T) {
	r := newFakeRoute("r:1", "r:2")
	p, dials := routedPool(t, 4, r)
	alice := Login{User: "alice", Password: "a"}
	got := map[string]int{}
	for range 4 {
		w := &routeWaiter{got: make(chan *Pooled[*addrConn], 1)}
		pc, queued, err := p.Enqueue(alice, w)
		if pc != nil || !queued || err != nil {
			t.Fatalf("Enqueue with room and nothing idle: %v %v %v, want it queued and opening", pc, queued, err)
		}
		pc = <-w.got
		if pc == nil || pc.Conn.addr != pc.Login.Instance {
			t.Fatalf("handed %+v", pc)
		}
		got[pc.Conn.addr]++
		p.Discard(pc)
	}
	if got["r:1"] != 2 || got["r:2"] != 2 || dials.Load() != 4 {
		t.Fatalf("4 opened borrows: %v over %d dials, want 2 each", got, dials.Load())
	}
	if o := r.outstanding(); len(o) != 0 {
		t.Fatalf("picks outstanding: %v", o)
	}
}

type routeWaiter struct{ got chan *Pooled[*addrConn] }

func (w *routeWaiter) Ready(pc *Pooled[*addrConn], _ error) { w.got <- pc }

// stuckRoute always picks the same instance and never takes it out (the
// writer as the fallback).
type stuckRoute struct{ fakeRoute }

func (r *stuckRoute) Down(string, error) {}

func TestPool_RouteSamePick(t *testing.T) {
	r := &stuckRoute{*newFakeRoute("w:1")}
	var dials atomic.Int64
	dial := func(_ context.Context, l Login) (*addrConn, error) {
		dials.Add(1)
		return nil, fmt.Errorf("connect %s: %w: connection refused", l.Instance, ErrBackendDown)
	}
	p := NewPool(PoolConfig{BorrowTimeout: 5 * time.Second, Route: r}, testdb.NewBudget(2), dial, nil)
	t.Cleanup(p.Close)
	if _, err := p.Get(context.Background(), Login{User: "alice"}); !errors.Is(err, ErrBackendDown) || dials.Load() != 1 {
		t.Fatalf("got %v after %d dials, want the dial error after one", err, dials.Load())
	}
	if o := r.outstanding(); len(o) != 0 {
		t.Fatalf("picks outstanding: %v", o)
	}
}
