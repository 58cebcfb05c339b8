package lease

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestManager_InstancesSplitIndependently: two nodes on one store, each
// with the budgets of a cluster's two instances, split each instance's
// max_connections by that instance's demand alone, in a record of its
// own; a node leaving frees its share of every instance.
func TestManager_InstancesSplitIndependently(t *testing.T) {
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := testdb.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	insts := []string{"10.0.0.1:5432", "10.0.0.2:5432"}
	type nodeBudgets struct {
		m *Manager
		b map[string]*fakeBudget
	}
	nodes := map[string]*nodeBudgets{}
	for _, id := range []string{"a", "b"} {
		n := &nodeBudgets{m: New(Config{Node: id, Store: st, TTL: ttl, Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}),
			b: map[string]*fakeBudget{}}
		for _, in := range insts {
			n.b[in] = &fakeBudget{max: 10, lease: -1}
			n.m.Add("db", in, n.b[in])
		}
		nodes[id] = n
	}
	ctx := context.Background()
	round := func() {
		t.Helper()
		for _, id := range []string{"a", "b", "a", "b"} {
			if err := nodes[id].m.Renew(ctx); err != nil {
				t.Fatal(err)
			}
			if err := nodes[id].m.Rebalance(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// a is busy on the writer, b on the reader.
	nodes["a"].b[insts[0]].set(8, 0)
	nodes["b"].b[insts[1]].set(9, 0)
	round()
	want := map[string]map[string]int{"a": {insts[0]: 9, insts[1]: 1}, "b": {insts[0]: 1, insts[1]: 9}}
	for id, byInst := range want {
		for in, w := range byInst {
			if got := nodes[id].b[in].limit(); got != w {
				t.Errorf("node %s, instance %s: limit %d, want %d", id, in, got, w)
			}
		}
	}
	for _, in := range insts {
		if sum := nodes["a"].b[in].limit() + nodes["b"].b[in].limit(); sum != 10 {
			t.Errorf("instance %s: limits sum to %d, want its max_connections 10", in, sum)
		}
		raw, err := st.Get(ctx, Namespace, Key("db", in))
		if err != nil {
			t.Fatalf("record of %s: %v", in, err)
		}
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil || len(rec.Nodes) != 2 {
			t.Fatalf("record of %s: %s, %v; want both nodes", in, raw, err)
		}
	}
	if _, err := st.Get(ctx, Namespace, "db"); err == nil {
		t.Fatal("a record for the cluster as a whole was written beside the instances'")
	}
	stats := nodes["a"].m.Stats()
	if len(stats) != 2 || stats[0].Instance != insts[0] || stats[1].Instance != insts[1] || stats[0].Cluster != "db" {
		t.Fatalf("stats = %+v, want one per instance", stats)
	}

	// b leaves: a gets every instance's whole budget.
	if err := nodes["b"].m.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := nodes["a"].m.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range insts {
		if got := nodes["a"].b[in].limit(); got != 10 {
			t.Errorf("after b left, instance %s: a's limit %d, want 10", in, got)
		}
	}
}
