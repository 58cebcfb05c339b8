package topology

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func TestBalancer_Pick(t *testing.T) {
	f := &fakeTopology{obs: map[string]Observation{}, dead: map[string]bool{}}
	f.set("w:1", Observation{Role: RoleWriter})
	f.set("r:1", Observation{Role: RoleReader, Lag: 2 * time.Second})
	f.set("r:2", Observation{Role: RoleReader})
	m := f.monitor(nil, Instance{"w:1", RoleWriter}, Instance{"r:1", RoleReader}, Instance{"r:2", RoleReader})
	ctx := context.Background()
	m.Check(ctx)
	b := NewBalancer(m, ReaderPolicy{MaxLag: 5 * time.Second})

	// Fewest picks outstanding wins; ties are taken in turn, starting
	// with the least lag (r:2).
	var dones []func()
	var got []string
	for range 4 {
		addr, done, err := b.Pick()
		if err != nil {
			t.Fatal(err)
		}
		got, dones = append(got, addr), append(dones, done)
	}
	if strings.Join(got, ",") != "r:2,r:1,r:2,r:1" {
		t.Fatalf("picks = %v, want r:2,r:1,r:2,r:1 (least open, ties by lag)", got)
	}
	dones[0]()
	dones[0]() // once only
	if open := b.Open(); open["r:2"] != 1 || open["r:1"] != 2 {
		t.Fatalf("open after one close = %v, want r:1 2, r:2 1", open)
	}
	if addr, done, _ := b.Pick(); addr != "r:2" {
		t.Fatalf("pick after a close = %s, want r:2 (fewer open)", addr)
	} else {
		done()
	}
	if !b.Serves("r:1") || b.Serves("w:1") {
		t.Fatal("Serves: want the readers, not the writer")
	}

	// r:1 lags beyond the limit: it serves no more, and gets no picks.
	f.set("r:1", Observation{Role: RoleReader, Lag: 6 * time.Second})
	m.Check(ctx)
	if b.Serves("r:1") {
		t.Fatal("a reader over max_replica_lag still serves")
	}
	for range 3 {
		if addr, done, _ := b.Pick(); addr != "r:2" {
			t.Fatalf("pick with r:1 lagging = %s, want r:2", addr)
		} else {
			done()
		}
	}

	// r:2 stops replicating too: no reader, no fallback.
	f.set("r:2", Observation{Role: RoleReader, Unhealthy: "replication stopped"})
	m.Check(ctx)
	_, _, err := b.Pick()
	if !errors.Is(err, ErrNoReader) || !strings.Contains(err.Error(), "replication stopped") || !strings.Contains(err.Error(), "over max_replica_lag") {
		t.Fatalf("pick with no eligible reader: %v, want ErrNoReader saying why each is out", err)
	}

	// With the fallback the writer serves until a reader is back.
	fb := NewBalancer(m, ReaderPolicy{MaxLag: 5 * time.Second, WriterFallback: true})
	if addr, done, err := fb.Pick(); err != nil || addr != "w:1" {
		t.Fatalf("fallback pick = %s, %v; want the writer", addr, err)
	} else {
		done()
	}
	if !fb.Serves("w:1") {
		t.Fatal("the writer does not serve while it is the fallback")
	}
	f.set("r:2", Observation{Role: RoleReader})
	m.Check(ctx)
	if fb.Serves("w:1") || !fb.Serves("r:2") {
		t.Fatal("after a reader came back: want reads to leave the writer for it")
	}
}

// A reader whose connection failed between checks gets no picks until the
// next check finds it serving; the writer is left to the checks.
func TestBalancer_Down(t *testing.T) {
	f := &fakeTopology{obs: map[string]Observation{}, dead: map[string]bool{}}
	f.set("w:1", Observation{Role: RoleWriter})
	f.set("r:1", Observation{Role: RoleReader})
	f.set("r:2", Observation{Role: RoleReader})
	m := f.monitor(nil, Instance{"w:1", RoleWriter}, Instance{"r:1", RoleReader}, Instance{"r:2", RoleReader})
	ctx := context.Background()
	m.Check(ctx)
	b := NewBalancer(m, ReaderPolicy{WriterFallback: true})
	b.Down("r:1", errors.New("connection refused"))
	b.Down("w:1", errors.New("connection refused"))
	for range 3 {
		addr, done, err := b.Pick()
		if err != nil || addr != "r:2" {
			t.Fatalf("pick with r:1 down = %s, %v; want r:2", addr, err)
		}
		done()
	}
	if b.Serves("r:1") || m.Writer() != "w:1" {
		t.Fatalf("after Down: r:1 serves %v, writer %s; want r:1 out, the writer kept", b.Serves("r:1"), m.Writer())
	}
	for _, s := range m.Instances() {
		if s.Address == "r:1" && !strings.Contains(s.Reason, "connection refused") {
			t.Fatalf("r:1 reason %q, want the failed connect", s.Reason)
		}
	}
	m.Check(ctx)
	if !b.Serves("r:1") {
		t.Fatal("r:1 still out after a check found it serving")
	}
	closed := b.Connected("r:1")
	if n := b.Connections()["r:1"]; n != 1 {
		t.Fatalf("connections %d, want 1", n)
	}
	closed()
	closed()
	if n := len(b.Connections()); n != 0 {
		t.Fatalf("connections after close: %v", b.Connections())
	}
}

func TestBalancer_NoReaders(t *testing.T) {
	f := &fakeTopology{obs: map[string]Observation{}, dead: map[string]bool{}}
	f.set("w:1", Observation{Role: RoleWriter})
	m := f.monitor(nil, Instance{"w:1", RoleWriter})
	m.Check(context.Background())
	_, _, err := NewBalancer(m, ReaderPolicy{}).Pick()
	if !errors.Is(err, ErrNoReader) || !strings.Contains(err.Error(), "no reader") {
		t.Fatalf("pick on a cluster without readers: %v", err)
	}
}

// refusingEngine is an engine.Engine whose connects fail as unreachable
// for the addresses in dead.
type refusingEngine struct {
	addr string
	dead map[string]bool
}

func (e refusingEngine) Connect(context.Context, engine.Credentials) (engine.Conn, error) {
	if e.dead[e.addr] {
		return nil, fmt.Errorf("connect %s: %w: connection refused", e.addr, engine.ErrUnavailable)
	}
	return fakeConn{addr: e.addr}, nil
}
func (refusingEngine) Name() string { return "postgres" }
func (refusingEngine) Close() error { return nil }

// A SQL endpoint's connect to a reader that died since the last check
// takes it out and lands on the other reader.
func TestReaderEngine_Connect(t *testing.T) {
	f := &fakeTopology{obs: map[string]Observation{}, dead: map[string]bool{}}
	f.set("w:1", Observation{Role: RoleWriter})
	f.set("r:1", Observation{Role: RoleReader})
	f.set("r:2", Observation{Role: RoleReader})
	m := f.monitor(nil, Instance{"w:1", RoleWriter}, Instance{"r:1", RoleReader}, Instance{"r:2", RoleReader})
	ctx := context.Background()
	m.Check(ctx)
	b := NewBalancer(m, ReaderPolicy{})
	dead := map[string]bool{"r:1": true}
	budget := &fakeBudget{max: 4}
	e := NewReaderEngine("postgres", b, budget, func(addr string) engine.Engine { return refusingEngine{addr: addr, dead: dead} })
	t.Cleanup(func() { _ = e.Close() })
	for range 3 {
		c, err := e.Connect(ctx, engine.Credentials{})
		if err != nil || c.(*instanceConn).addr != "r:2" {
			t.Fatalf("connect with r:1 dead: %v, %v; want r:2", c, err)
		}
		_ = c.Close()
	}
	if b.Serves("r:1") {
		t.Fatal("the dead reader still serves")
	}
	dead["r:2"] = true
	if _, err := e.Connect(ctx, engine.Credentials{}); !errors.Is(err, engine.ErrUnavailable) || !errors.Is(err, ErrNoReader) {
		t.Fatalf("connect with both dead: %v, want ErrUnavailable and ErrNoReader", err)
	}
	budget.mu.Lock()
	defer budget.mu.Unlock()
	if budget.held != 0 {
		t.Fatalf("budget slots held after every close: %d", budget.held)
	}
}
