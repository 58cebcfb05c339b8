package lease

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		total   int
		demands []int
		want    []int
	}{
		{20, []int{0}, []int{20}},
		{20, []int{0, 0, 0}, []int{7, 7, 6}},
		{20, []int{100, 100, 100}, []int{6, 7, 7}},
		{20, []int{30, 2}, []int{18, 2}},
		{20, []int{0, 50, 50}, []int{0, 10, 10}},
		{20, []int{3, 4, 5}, []int{6, 7, 7}}, // 8 left over, spread
		{20, []int{1, 25, -3}, []int{1, 19, 0}},
		{2, []int{5, 5, 5}, []int{0, 1, 1}},
		{0, []int{5}, []int{0}},
		{20, nil, []int{}},
	} {
		t.Run(fmt.Sprint(tc.total, tc.demands), func(t *testing.T) {
			got := Split(tc.total, tc.demands)
			sum := 0
			for _, g := range got {
				sum += g
			}
			if !slices.Equal(got, tc.want) || (len(got) > 0 && tc.total > 0 && sum != tc.total) {
				t.Fatalf("Split(%d, %v) = %v (sum %d), want %v", tc.total, tc.demands, got, sum, tc.want)
			}
		})
	}
}

// fakeBudget is a pool as the lease sees it: open connections stay open
// until the test closes them (busy ones coming back), except that idle
// ones close when the limit drops below them.
type fakeBudget struct {
	mu                         sync.Mutex
	max, lease, busy, idle, wt int
}

func (b *fakeBudget) Max() int { b.mu.Lock(); defer b.mu.Unlock(); return b.max }
func (b *fakeBudget) SetLease(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lease = n
	b.idle = max(min(b.idle, n-b.busy), 0)
}
func (b *fakeBudget) Demand() int { b.mu.Lock(); defer b.mu.Unlock(); return b.busy + b.wt }
func (b *fakeBudget) Open() int   { b.mu.Lock(); defer b.mu.Unlock(); return b.busy + b.idle }
func (b *fakeBudget) limit() int  { b.mu.Lock(); defer b.mu.Unlock(); return b.lease }

// set changes the busy connections and waiters.
func (b *fakeBudget) set(busy, waiting int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.busy, b.wt = busy, waiting
}

// node is one Manager with its cluster budget.
type node struct {
	m *Manager
	b *fakeBudget
}

type cluster struct {
	t     *testing.T
	store state.Store
	clock *testdb.Clock
	nodes map[string]*node
}

const ttl = 6 * time.Second

func newCluster(t *testing.T) *cluster {
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &cluster{t: t, store: st, clock: testdb.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), nodes: map[string]*node{}}
}

func (c *cluster) add(id string) *node {
	b := &fakeBudget{max: 20, lease: -1}
	m := New(Config{Node: id, Store: c.store, TTL: ttl, Now: c.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	m.Add("db", "", b)
	if b.limit() != 0 {
		c.t.Fatalf("%s: limit before the first renewal = %d, want 0", id, b.limit())
	}
	n := &node{m: m, b: b}
	c.nodes[id] = n
	return n
}

// round lets each named node renew (heartbeat) and then rebalance, in
// order, checking the invariant after every step.
func (c *cluster) round(ids ...string) {
	c.t.Helper()
	for _, beat := range []bool{true, false, false} {
		for _, id := range ids {
			n := c.nodes[id]
			var err error
			if beat {
				err = n.m.Renew(context.Background())
			} else {
				err = n.m.Rebalance(context.Background())
			}
			if err != nil {
				c.t.Fatalf("%s: %v", id, err)
			}
			c.check()
		}
	}
}

// check asserts the stored grants sum to at most the budget and cover
// what every live node may hold and holds.
func (c *cluster) check() {
	c.t.Helper()
	rec := c.record()
	sum := 0
	for id, e := range rec.Nodes {
		sum += e.Grant
		if n := c.nodes[id]; n != nil && (n.b.limit() > e.Grant || n.b.Open() > e.Grant) {
			c.t.Fatalf("%s: limit %d, open %d above its grant %d", id, n.b.limit(), n.b.Open(), e.Grant)
		}
	}
	if sum > 20 {
		c.t.Fatalf("grants sum to %d > 20: %+v", sum, rec.Nodes)
	}
}

func (c *cluster) record() *record {
	c.t.Helper()
	b, err := c.store.Get(context.Background(), Namespace, "db")
	if err != nil {
		c.t.Fatal(err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		c.t.Fatal(err)
	}
	return &rec
}

func (c *cluster) limits(ids ...string) []int {
	var out []int
	for _, id := range ids {
		out = append(out, c.nodes[id].b.limit())
	}
	return out
}

func (c *cluster) want(what string, want []int, ids ...string) {
	c.t.Helper()
	if got := c.limits(ids...); !slices.Equal(got, want) {
		c.t.Fatalf("%s: limits of %v = %v, want %v", what, ids, got, want)
	}
}

// TestManager_JoinAndLeave: a node alone takes the whole budget; nodes
// joining get equal shares as the others give theirs back; a node
// leaving hands its share over at once.
func TestManager_JoinAndLeave(t *testing.T) {
	c := newCluster(t)
	c.add("a")
	c.round("a")
	c.want("alone", []int{20}, "a")
	c.add("b")
	c.round("b", "a")
	c.want("two", []int{10, 10}, "a", "b")
	c.add("c")
	c.round("c", "a", "b")
	c.want("three", []int{7, 7, 6}, "a", "b", "c")
	if err := c.nodes["b"].m.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	delete(c.nodes, "b")
	c.round("a", "c")
	c.want("b left", []int{10, 10}, "a", "c")
}

// TestManager_DemandSplit: nodes with waiters get more than idle ones.
func TestManager_DemandSplit(t *testing.T) {
	c := newCluster(t)
	a, b := c.add("a"), c.add("b")
	c.round("a", "b")
	a.b.set(10, 20) // 10 busy, 20 waiting
	b.b.set(2, 0)
	c.round("a", "b")
	c.want("by demand", []int{18, 2}, "a", "b")
}

// TestManager_GivesBackOnlyWhatIsClosed: a node whose share shrinks keeps
// a grant for its busy connections, so the joining node waits for them
// to come back instead of exceeding the budget.
func TestManager_GivesBackOnlyWhatIsClosed(t *testing.T) {
	c := newCluster(t)
	a := c.add("a")
	c.round("a")
	a.b.set(20, 0) // all 20 busy
	b := c.add("b")
	b.b.set(0, 10) // 10 waiting
	c.round("b", "a", "b")
	c.want("a lowered, b waits", []int{10, 0}, "a", "b")
	if a.m.givingBack() {
		t.Fatal("givingBack with every connection still busy")
	}
	a.b.set(12, 0) // 8 came back and were closed
	if !a.m.givingBack() {
		t.Fatal("not givingBack after connections closed")
	}
	c.round("a", "b")
	c.want("partly given back", []int{10, 8}, "a", "b")
	a.b.set(10, 0)
	c.round("a", "b")
	c.want("all given back", []int{10, 10}, "a", "b")
	if st := b.m.Stats()[0]; st.Grant != 10 || st.Nodes != 2 {
		t.Fatalf("b's stats: %+v", st)
	}
}

// TestManager_DeadNodeFencesThenExpires: a node that stops renewing
// fences itself (limit 0) before the others drop its lease, and then
// its share goes to them.
func TestManager_DeadNodeFencesThenExpires(t *testing.T) {
	c := newCluster(t)
	c.add("a")
	c.add("b")
	dead := c.add("c")
	c.round("a", "b", "c")
	c.want("three", []int{7, 7, 6}, "a", "b", "c")
	step := ttl / 6
	fencedAt := time.Duration(-1)
	for elapsed := step; elapsed <= 2*ttl; elapsed += step {
		c.clock.Advance(step)
		dead.m.Fence()
		if dead.b.limit() == 0 && fencedAt < 0 {
			fencedAt = elapsed
		}
		c.round("a", "b") // c no longer renews
		if _, present := c.record().Nodes["c"]; !present && fencedAt < 0 {
			t.Fatalf("c's lease dropped at %v before c fenced itself", elapsed)
		}
		if c.nodes["a"].b.limit()+c.nodes["b"].b.limit() > 20-dead.b.limit() {
			t.Fatalf("at %v: a+b may hold %v while c may still hold %d", elapsed, c.limits("a", "b"), dead.b.limit())
		}
	}
	if fencedAt < 0 || fencedAt > ttl-ttl/3 {
		t.Fatalf("c fenced at %v, want by %v", fencedAt, ttl-ttl/3)
	}
	if dead.m.Fences() != 1 || !dead.m.Stats()[0].Fenced {
		t.Fatalf("fences = %d, stats %+v", dead.m.Fences(), dead.m.Stats())
	}
	if _, present := c.record().Nodes["c"]; present {
		t.Fatal("c's lease not dropped after two TTLs")
	}
	delete(c.nodes, "c")
	c.round("a", "b")
	c.want("c's share went to a and b", []int{10, 10}, "a", "b")
}

// TestManager_Run: two managers running on the real clock settle on
// equal shares and stop with their context.
func TestManager_Run(t *testing.T) {
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var budgets []*fakeBudget
	for _, id := range []string{"a", "b"} {
		b := &fakeBudget{max: 20}
		m := New(Config{Node: id, Store: st, TTL: 600 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		m.Add("db", "", b)
		budgets = append(budgets, b)
		wg.Add(1)
		go func() { defer wg.Done(); m.Run(ctx) }()
	}
	testdb.Eventually(t, 20*time.Second, 10*time.Millisecond, "equal shares", func() bool {
		return budgets[0].limit() == 10 && budgets[1].limit() == 10
	})
	cancel()
	wg.Wait()
}

// TestManager_FencedNodeRecovers: a node that fenced itself while the
// store was unreachable takes its share again at the next renewal.
func TestManager_FencedNodeRecovers(t *testing.T) {
	c := newCluster(t)
	a := c.add("a")
	c.round("a")
	c.clock.Advance(ttl - ttl/3)
	a.m.Fence()
	c.want("fenced", []int{0}, "a")
	c.round("a")
	c.want("renewed", []int{20}, "a")
	if st := a.m.Stats()[0]; st.Fenced || st.Grant != 20 || st.Nodes != 1 {
		t.Fatalf("stats after renewal: %+v", st)
	}
}

// TestManager_BudgetIsSmallestMax: while the nodes' configs disagree,
// they share the smallest max_connections.
func TestManager_BudgetIsSmallestMax(t *testing.T) {
	c := newCluster(t)
	a, b := c.add("a"), c.add("b")
	b.b.max = 10
	c.round("a", "b", "a")
	if got := a.b.limit() + b.b.limit(); got != 10 {
		t.Fatalf("a+b limits = %d, want 10", got)
	}
}
