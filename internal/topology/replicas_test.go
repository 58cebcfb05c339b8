package topology

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/mysql"
	"github.com/sqlgate/sqlgate/internal/engine/postgres"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// These tests run against the replicated topology of e2e/replicas.sh.
// Each starts with `replicas.sh start ENGINE`, which brings the topology
// back to a primary and a following replica, so they run in any order.

type side struct {
	script           string // e2e/replicas.sh
	engine           string // replicas.sh engine argument
	primary, replica string
	dial             *Engines
	probe            Probe
}

// sides returns the MariaDB and PostgreSQL topologies, held for the test
// (testdb.NeedReplicas).
func sides(t *testing.T) []side {
	r := testdb.NeedReplicas(t)
	login := func(context.Context) (engine.Credentials, error) {
		return engine.Credentials{User: "sqlgate", Password: "sqlgatepw", Database: "sqlgate_test"}, nil
	}
	my := NewEngines(func(a string) engine.Engine {
		return mysql.New(mysql.Config{Address: a, ConnectTimeout: 2 * time.Second})
	}, login)
	pg := NewEngines(func(a string) engine.Engine {
		return postgres.New(postgres.Config{Address: a, ConnectTimeout: 2 * time.Second})
	}, login)
	t.Cleanup(my.Close)
	t.Cleanup(pg.Close)
	return []side{
		{r.Script, "mariadb", r.MySQLPrimary, r.MySQLReplica, my, ProbeMySQL},
		{r.Script, "postgres", r.PGPrimary, r.PGReplica, pg, ProbePostgres},
	}
}

// runScript runs e2e/replicas.sh with args.
func runScript(t *testing.T, script string, args ...string) {
	t.Helper()
	out, err := exec.Command("bash", append([]string{script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("replicas.sh %v: %v\n%s", args, err, out)
	}
}

func (s side) monitor() *Monitor {
	return New(Config{Cluster: s.engine, Interval: 200 * time.Millisecond, Timeout: 2 * time.Second,
		Instances: []Instance{{s.primary, RoleWriter}, {s.replica, RoleReader}},
		Dial:      s.dial.Dial, Probe: s.probe})
}

// exec runs sql on the instance at addr.
func (s side) exec(t *testing.T, addr, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := s.dial.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	defer c.Close()
	if _, err := c.Exec(ctx, sql, nil, 0); err != nil {
		t.Fatalf("%s on %s: %v", sql, addr, err)
	}
}

func status(m *Monitor, addr string) Status {
	for _, s := range m.Instances() {
		if s.Address == addr {
			return s
		}
	}
	return Status{}
}

func TestMonitor_Roles(t *testing.T) {
	for _, s := range sides(t) {
		t.Run(s.engine, func(t *testing.T) {
			runScript(t, s.script, "start", s.engine)
			m := s.monitor()
			m.Check(context.Background())
			p, r := status(m, s.primary), status(m, s.replica)
			if !p.Healthy || p.Role != RoleWriter {
				t.Fatalf("primary = %+v, want a healthy writer", p)
			}
			if !r.Healthy || r.Role != RoleReader {
				t.Fatalf("replica = %+v, want a healthy reader", r)
			}
			if got := m.Writer(); got != s.primary {
				t.Fatalf("writer = %s, want %s", got, s.primary)
			}
		})
	}
}

// TestMonitor_Failover kills the primary: its first check afterwards
// finds it dead; the replica is promoted and becomes the writer on the
// next check; then the topology is rebuilt.
func TestMonitor_Failover(t *testing.T) {
	for _, s := range sides(t) {
		t.Run(s.engine, func(t *testing.T) {
			runScript(t, s.script, "start", s.engine)
			t.Cleanup(func() { runScript(t, s.script, "start", s.engine) })
			m := s.monitor()
			ctx := context.Background()
			m.Check(ctx)
			runScript(t, s.script, "kill", s.engine, "primary")
			m.Check(ctx)
			if p := status(m, s.primary); p.Healthy {
				t.Fatalf("killed primary = %+v, want unhealthy at the first check after", p)
			}
			if got := m.Writer(); got != s.primary {
				t.Fatalf("writer with no other writer = %s, want it kept (%s)", got, s.primary)
			}
			runScript(t, s.script, "promote", s.engine)
			m.Check(ctx)
			if r := status(m, s.replica); !r.Healthy || r.Role != RoleWriter {
				t.Fatalf("promoted replica = %+v, want a healthy writer", r)
			}
			if got := m.Writer(); got != s.replica {
				t.Fatalf("writer after promotion = %s, want %s", got, s.replica)
			}
		})
	}
}

// TestMonitor_RunFollowsPromotion runs the monitor on its interval and
// promotes the replica while the old primary is still up: the old primary
// stays writer (sqlgate does not elect), and when it dies the promoted
// replica takes over.
func TestMonitor_RunFollowsPromotion(t *testing.T) {
	s := sides(t)[0]
	runScript(t, s.script, "start", s.engine)
	t.Cleanup(func() { runScript(t, s.script, "start", s.engine) })
	m := s.monitor()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	runScript(t, s.script, "promote", s.engine)
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "promoted replica seen as writer", func() bool {
		return status(m, s.replica).Role == RoleWriter
	})
	if got := m.Writer(); got != s.primary {
		t.Fatalf("writer with two writable instances = %s, want the current one kept (%s)", got, s.primary)
	}
	runScript(t, s.script, "kill", s.engine, "primary")
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "writer follows the promotion", func() bool {
		return m.Writer() == s.replica
	})
}

// TestMonitor_PausedPostgres pauses replay on the standby and writes on
// the primary: the lag in bytes and in time appears (in time even on a
// standby that replayed nothing since it started), and clears on resume.
func TestMonitor_PausedPostgres(t *testing.T) {
	s := sides(t)[1]
	runScript(t, s.script, "start", s.engine)
	t.Cleanup(func() { runScript(t, s.script, "resume", s.engine) })
	m := s.monitor()
	runScript(t, s.script, "pause", s.engine)
	s.exec(t, s.primary, "CREATE TABLE IF NOT EXISTS topology_lag (n int)")
	s.exec(t, s.primary, "INSERT INTO topology_lag SELECT generate_series(1, 1000)")
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "lag while replay is paused", func() bool {
		m.Check(context.Background())
		r := status(m, s.replica)
		return r.Healthy && r.LagBytes > 0 && r.Lag > 0
	})

	runScript(t, s.script, "resume", s.engine)
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "lag cleared after resume", func() bool {
		m.Check(context.Background())
		r := status(m, s.replica)
		return r.Healthy && r.LagBytes == 0 && r.Lag == 0
	})
}

// TestMonitor_PausedMariaDB stops the replica's SQL thread: replication
// is stopped (Seconds_Behind_Master NULL), so the reader is unhealthy
// until it resumes.
func TestMonitor_PausedMariaDB(t *testing.T) {
	s := sides(t)[0]
	runScript(t, s.script, "start", s.engine)
	t.Cleanup(func() { runScript(t, s.script, "resume", s.engine) })
	m := s.monitor()
	runScript(t, s.script, "pause", s.engine)
	m.Check(context.Background())
	if r := status(m, s.replica); r.Healthy || r.Role != RoleReader {
		t.Fatalf("paused replica = %+v, want an unhealthy reader", r)
	}
	if len(m.Readers()) != 0 {
		t.Fatalf("readers = %+v, want none", m.Readers())
	}
	runScript(t, s.script, "resume", s.engine)
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "replica healthy after resume", func() bool {
		m.Check(context.Background())
		return status(m, s.replica).Healthy
	})
}
