package pgproxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// a client that vanishes inside a transaction gets exactly one
// ROLLBACK, and the backend is reused cleanly.
func TestSession_ClientGoneMidTransaction(t *testing.T) {
	u := testdb.PGURL(t)
	cfg, _ := pgconn.ParseConfig(u)
	relay := newFaultRelay(t, net_join(cfg.Host, cfg.Port))
	tp := startProxy(t, 1, viaRelay(relay))
	ctx := context.Background()
	d := tp.direct(t)
	exec(t, d, "create table if not exists proxy_t5(a int)")
	exec(t, d, "truncate proxy_t5")

	t.Run("idle in transaction", func(t *testing.T) {
		c := tp.connect(t, "")
		exec(t, c, "begin")
		exec(t, c, "insert into proxy_t5 values (1)")
		before := relay.rollbacks.Load()
		_ = c.PgConn().Conn().Close() // vanish without Terminate
		testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "rollback", func() bool { return tp.srv.PoolStats().Busy == 0 })
		if n := relay.rollbacks.Load() - before; n != 1 {
			t.Fatalf("ROLLBACKs sent: %d, want 1", n)
		}
		if got := queryString(t, d, "select count(*)::text from proxy_t5"); got != "0" {
			t.Fatalf("rows: %s", got)
		}
		c2 := tp.connect(t, "")
		if got := queryString(t, c2, "select 'reused'"); got != "reused" {
			t.Fatal(got)
		}
	})
	t.Run("running query", func(t *testing.T) {
		c := tp.connect(t, "")
		exec(t, c, "begin")
		go func() { _, _ = c.Exec(ctx, "select pg_sleep(30)") }()
		waitRunning(t, d, "select pg_sleep(30)")
		before := relay.rollbacks.Load()
		start := time.Now()
		_ = c.PgConn().Conn().Close()
		testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "cancel and rollback", func() bool { return tp.srv.PoolStats().Busy == 0 })
		if time.Since(start) > 4*time.Second {
			t.Fatal("query was not cancelled")
		}
		if n := relay.rollbacks.Load() - before; n != 1 {
			t.Fatalf("ROLLBACKs sent: %d, want 1", n)
		}
		c2 := tp.connect(t, "")
		exec(t, c2, "select 1")
	})
	t.Run("mid result set", func(t *testing.T) {
		c := tp.connect(t, "")
		rows, err := c.Query(ctx, "select repeat('x', 1000) from generate_series(1, 200000)")
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		_ = c.PgConn().Conn().Close()
		testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "release", func() bool { return tp.srv.PoolStats().Busy == 0 })
		c2 := tp.connect(t, "")
		if got := queryString(t, c2, "select 'clean'"); got != "clean" {
			t.Fatal(got)
		}
	})
}

// with one backend connection shared by clients A and B, B never
// observes A's session state.
func TestSession_NoStateLeak(t *testing.T) {
	tp := startProxy(t, 1)
	ctx := context.Background()
	cases := []struct {
		name  string
		setup []string
		check string // run by B; must return "ok"
	}{
		{"statement_timeout", []string{"set statement_timeout = '7s'"}, "select case when current_setting('statement_timeout') = '0' then 'ok' else current_setting('statement_timeout') end"},
		{"search_path", []string{"create schema if not exists proxy_leak", "set search_path = proxy_leak"}, "select case when current_setting('search_path') not like '%proxy_leak%' then 'ok' else 'leak' end"},
		{"read only", []string{"set default_transaction_read_only = on"}, "select case when current_setting('default_transaction_read_only') = 'off' then 'ok' else 'leak' end"},
		{"untracked set", []string{"set enable_seqscan = off"}, "select case when current_setting('enable_seqscan') = 'on' then 'ok' else 'leak' end"},
		{"prepare", []string{"prepare leak_stmt as select 1"}, "select case when count(*) = 0 then 'ok' else 'leak' end from pg_prepared_statements where name = 'leak_stmt'"},
		{"temp table", []string{"create temp table leak_tmp(a int)"}, "select case when to_regclass('pg_temp.leak_tmp') is null then 'ok' else 'leak' end"},
		{"with hold", []string{"declare leak_cur cursor with hold for select 1"}, "select case when count(*) = 0 then 'ok' else 'leak' end from pg_cursors where name = 'leak_cur'"},
		{"listen", []string{"listen leak_chan"}, "select case when count(*) = 0 then 'ok' else 'leak' end from pg_listening_channels()"},
		{"advisory lock", []string{"select pg_advisory_lock(4242)::text"}, "select case when pg_try_advisory_lock(4243) and count(*) = 0 then 'ok' else 'leak' end from pg_locks where locktype = 'advisory' and objid = 4242"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tp.connect(t, "")
			for _, q := range tc.setup {
				exec(t, a, q)
			}
			exec(t, a, "select 1")
			_ = a.Close(ctx)
			testdb.Eventually(t, 3*time.Second, 10*time.Millisecond, "A's backend back", func() bool { return tp.srv.PoolStats().Busy == 0 })
			b := tp.connect(t, "")
			if got := queryString(t, b, tc.check); got != "ok" {
				t.Fatalf("B sees A's state: %s", got)
			}
			_ = b.Close(ctx)
			testdb.Eventually(t, 3*time.Second, 10*time.Millisecond, "B's backend back", func() bool { return tp.srv.PoolStats().Busy == 0 })
		})
	}
	t.Run("tracked sets survive across transactions", func(t *testing.T) {
		a := tp.connect(t, "")
		b := tp.connect(t, "")
		exec(t, a, "set search_path = proxy_leak, public")
		exec(t, a, "set statement_timeout = 1234")
		exec(t, b, "set application_name = 'client-b'")
		for range 3 {
			if got := queryString(t, b, "select current_setting('search_path')"); strings.Contains(got, "proxy_leak") {
				t.Fatalf("B sees A's search_path %q", got)
			}
			if got := queryString(t, a, "select current_setting('search_path')"); !strings.Contains(got, "proxy_leak") {
				t.Fatalf("A lost its search_path: %q", got)
			}
			if got := queryString(t, a, "select current_setting('statement_timeout')"); got != "1234ms" {
				t.Fatalf("A lost statement_timeout: %q", got)
			}
			if got := queryString(t, b, "select current_setting('application_name')"); got != "client-b" {
				t.Fatalf("B lost application_name: %q", got)
			}
		}
		if p := tp.srv.Core().Metrics(); p == nil {
			t.Fatal("no metrics")
		}
	})
	t.Run("rolled back set", func(t *testing.T) {
		a := tp.connect(t, "")
		exec(t, a, "begin")
		exec(t, a, "set search_path = proxy_leak")
		exec(t, a, "rollback")
		if got := queryString(t, a, "select current_setting('search_path')"); strings.Contains(got, "proxy_leak") {
			t.Fatalf("rolled-back SET kept: %q", got)
		}
	})
}

// protocol-level prepared statements follow the client across
// backends without pinning.
func TestSession_PreparedAcrossBackends(t *testing.T) {
	tp := startProxy(t, 2)
	ctx := context.Background()
	a := tp.connect(t, "")
	if _, err := a.Prepare(ctx, "s1", "select $1::int + 1"); err != nil {
		t.Fatal(err)
	}
	// Hold the backend A just used, so A's next transaction lands on the other one.
	h := tp.connect(t, "")
	tx, err := h.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, h, "select 1")
	var n int
	if err := a.QueryRow(ctx, "s1", 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("execute s1 on another backend: %d %v", n, err)
	}
	_ = tx.Rollback(ctx)
	for i := range 20 { // both backends, many times
		if err := a.QueryRow(ctx, "s1", i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("round %d: %d %v", i, n, err)
		}
	}
	if strings.Contains(tp.logs.String(), "pinned") {
		t.Fatal("prepared statements pinned the session")
	}

	t.Run("same name, new text after deallocate", func(t *testing.T) {
		if err := a.Deallocate(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Prepare(ctx, "s1", "select $1::int * 10"); err != nil {
			t.Fatal(err)
		}
		if err := a.QueryRow(ctx, "s1", 4).Scan(&n); err != nil || n != 40 {
			t.Fatalf("%d %v", n, err)
		}
	})
	t.Run("lru eviction", func(t *testing.T) {
		old := stmtCacheSize
		stmtCacheSize = 3
		defer func() { stmtCacheSize = old }()
		tp := startProxy(t, 1)
		c := tp.connect(t, "")
		for round := range 3 {
			for i := range 8 {
				if err := c.QueryRow(ctx, fmt.Sprintf("select %d + $1::int", i), round).Scan(&n); err != nil || n != i+round {
					t.Fatalf("round %d stmt %d: %d %v", round, i, n, err)
				}
			}
		}
	})
	t.Run("pipeline with error", func(t *testing.T) {
		b := &pgx.Batch{}
		b.Queue("select 1")
		b.Queue("select 1/0")
		b.Queue("select 3")
		err := a.SendBatch(ctx, b).Close()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "22012" {
			t.Fatalf("batch: %v", err)
		}
		if err := a.QueryRow(ctx, "select 5").Scan(&n); err != nil || n != 5 {
			t.Fatalf("after failed batch: %d %v", n, err)
		}
	})
	t.Run("two clients same text", func(t *testing.T) {
		var wg sync.WaitGroup
		var fails atomic.Int64
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := pgx.Connect(ctx, tp.url(""))
				if err != nil {
					fails.Add(1)
					return
				}
				defer c.Close(ctx)
				for i := range 50 {
					var got int
					if err := c.QueryRow(ctx, "select $1::int * 2", w*100+i).Scan(&got); err != nil || got != (w*100+i)*2 {
						fails.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if fails.Load() > 0 {
			t.Fatalf("%d failures", fails.Load())
		}
	})
	t.Run("sql deallocate all", func(t *testing.T) {
		if _, err := a.Prepare(ctx, "s2", "select 2"); err != nil {
			t.Fatal(err)
		}
		exec(t, a, "deallocate all")
		if err := a.QueryRow(ctx, "select $1::int", 9).Scan(&n); err != nil || n != 9 {
			t.Fatalf("%d %v", n, err)
		}
	})
}

// CancelRequest through the proxy reaches the right backend, and
// cancels racing with other clients' transactions never hit them.
func TestSession_Cancel(t *testing.T) {
	tp := startProxy(t, 1)
	ctx := context.Background()
	t.Run("cancel running query", func(t *testing.T) {
		c := tp.connect(t, "")
		start := time.Now()
		res := make(chan error, 1)
		go func() { _, err := c.Exec(ctx, "select pg_sleep(20)"); res <- err }()
		waitRunning(t, tp.direct(t), "select pg_sleep(20)")
		_ = c.PgConn().CancelRequest(ctx)
		err := <-res
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" {
			t.Fatalf("got %v, want 57014", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("cancel too slow")
		}
		exec(t, c, "select 1")
	})
	t.Run("race", func(t *testing.T) {
		victim := tp.connect(t, "")
		canceller := tp.connect(t, "")
		stop := make(chan struct{})
		var sent atomic.Int64
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = canceller.PgConn().CancelRequest(ctx) // canceller runs nothing
				sent.Add(1)
			}
		}()
		for i := range 300 {
			if _, err := victim.Exec(ctx, "select pg_sleep(0.001)"); err != nil {
				close(stop)
				t.Fatalf("victim query %d cancelled: %v", i, err)
			}
		}
		close(stop)
		if sent.Load() == 0 {
			t.Fatal("no cancel requests sent")
		}
	})
}
