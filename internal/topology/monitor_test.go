package topology

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// fakeConn is an engine.Conn that only closes; the fake probe reads the
// instance's state from the table the test controls.
type fakeConn struct {
	engine.Conn
	addr string
}

func (c fakeConn) Close() error { return nil }

// fakeBudget is max slots shared by every address (the addresses asked
// for are recorded in on).
type fakeBudget struct {
	mu       sync.Mutex
	held     int
	max      int
	reserved int
	on       map[string]int
}

func (b *fakeBudget) OverOn(string) bool { return false }

func (b *fakeBudget) ReserveOn(_ context.Context, addr string) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held >= b.max {
		return nil, errors.New("exhausted")
	}
	b.held++
	b.reserved++
	if b.on == nil {
		b.on = map[string]int{}
	}
	b.on[addr]++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.held--
	}, nil
}

// fakeTopology maps addresses to what their server would report; a
// missing address refuses connections.
type fakeTopology struct {
	mu   sync.Mutex
	obs  map[string]Observation
	dead map[string]bool
}

func (f *fakeTopology) set(addr string, o Observation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.obs[addr] = o
	delete(f.dead, addr)
}

func (f *fakeTopology) kill(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead[addr] = true
}

func (f *fakeTopology) monitor(b Budget, in ...Instance) *Monitor {
	return New(Config{Cluster: "c", Instances: in, Budget: b,
		Dial: func(_ context.Context, addr string) (engine.Conn, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.dead[addr] {
				return nil, errors.New("connection refused")
			}
			return fakeConn{addr: addr}, nil
		},
		Probe: func(_ context.Context, c engine.Conn) (Observation, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.obs[c.(fakeConn).addr], nil
		}})
}

func TestMonitor_Check(t *testing.T) {
	f := &fakeTopology{obs: map[string]Observation{}, dead: map[string]bool{}}
	f.set("a:1", Observation{Role: RoleWriter})
	f.set("b:1", Observation{Role: RoleReader, Lag: 3e9})
	f.set("c:1", Observation{Role: RoleReader, Lag: 1e9})
	budget := &fakeBudget{max: 10}
	m := f.monitor(budget, Instance{"a:1", RoleWriter}, Instance{"b:1", RoleReader}, Instance{"c:1", RoleReader})
	if got := m.Writer(); got != "a:1" {
		t.Fatalf("writer before any check = %q, want the configured a:1", got)
	}
	ctx := context.Background()
	m.Check(ctx)
	if got := readers(m); got != "c:1,b:1" {
		t.Fatalf("readers = %q, want least lag first c:1,b:1", got)
	}
	if budget.reserved != 3 || budget.held != 0 {
		t.Fatalf("budget reserved %d held %d, want 3 reserved and all released", budget.reserved, budget.held)
	}
	if on := budget.on; on["a:1"] != 1 || on["b:1"] != 1 || on["c:1"] != 1 {
		t.Fatalf("slots taken by instance: %v, want one of each instance's budget", on)
	}

	// The writer dies and b is promoted: the writer follows in one round.
	f.kill("a:1")
	f.set("b:1", Observation{Role: RoleWriter})
	m.Check(ctx)
	if got := m.Writer(); got != "b:1" {
		t.Fatalf("writer after promotion = %q, want b:1", got)
	}
	if st := m.Instances()[0]; st.Healthy || st.Reason == "" {
		t.Fatalf("dead instance status = %+v, want unhealthy with a reason", st)
	}

	// The old writer comes back writable: the promoted one keeps the role.
	f.set("a:1", Observation{Role: RoleWriter})
	m.Check(ctx)
	if got := m.Writer(); got != "b:1" {
		t.Fatalf("writer after the old primary returned = %q, want b:1 (sticky)", got)
	}
	if got := m.Counters().WriterChanges; got != 1 {
		t.Fatalf("writer changes = %d, want 1", got)
	}

	// A stopped replication makes the reader unhealthy.
	f.set("c:1", Observation{Role: RoleReader, Unhealthy: "replication stopped"})
	m.Check(ctx)
	if got := readers(m); got != "" {
		t.Fatalf("readers = %q, want none", got)
	}
}

func TestMonitor_CheckBudgetFull(t *testing.T) {
	f := &fakeTopology{obs: map[string]Observation{}, dead: map[string]bool{}}
	f.set("a:1", Observation{Role: RoleWriter})
	budget := &fakeBudget{max: 1}
	m := f.monitor(budget, Instance{"a:1", RoleWriter})
	m.Check(context.Background())
	budget.held = 1 // the doors hold the whole budget
	f.kill("a:1")
	m.Check(context.Background())
	if st := m.Instances()[0]; !st.Healthy || st.Role != RoleWriter {
		t.Fatalf("status after a skipped check = %+v, want the previous healthy writer", st)
	}
	if got := m.Counters().Skipped; got != 1 {
		t.Fatalf("skipped = %d, want 1", got)
	}
}

func readers(m *Monitor) string {
	s := ""
	for i, r := range m.Readers() {
		if i > 0 {
			s += ","
		}
		s += r.Address
	}
	return s
}
