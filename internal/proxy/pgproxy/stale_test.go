package pgproxy

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestIsolation_FunctionStateNeverStale: what a function sets that the
// proxy cannot see (set_config of a custom setting, through iso_fn) may be
// lost for its caller when the caller changes connections, but never comes
// back older than the latest value. B sets myapp.f = 1 on one connection
// and 2 on the other, then its next statement runs on the first while A
// holds the second: B must see 2 or nothing, never 1. The pool hands out
// its most recently returned connection; backend pids check that the
// statements ran where planned.
func TestIsolation_FunctionStateNeverStale(t *testing.T) {
	for _, mode := range []string{"default", "strict"} {
		t.Run(mode, func(t *testing.T) {
			tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.Isolation = mode })
			isoSetup(t, tp)
			a, b := tp.connect(t, ""), tp.connect(t, "")
			const read = "SELECT pg_backend_pid()::text || '/' || coalesce(nullif(current_setting('myapp.f', true), ''), '-')"
			exec(t, a, "BEGIN") // A holds one connection (p) ...
			exec(t, b, "SELECT iso_fn('myapp.f', '1')")
			first := queryString(t, b, read) // ... so B's statements run on the other (q)
			q, v, _ := strings.Cut(first, "/")
			if v != "1" {
				t.Fatalf("B sees %q right after its function, want 1", first)
			}
			exec(t, a, "COMMIT")
			allIdle(t, tp) // both returned, A's last: the pool hands it out next
			exec(t, b, "SELECT iso_fn('myapp.f', '2')")
			second := queryString(t, b, read)
			p, v, _ := strings.Cut(second, "/")
			if p == q {
				t.Fatalf("setup: B's second call ran on the connection of its first (%s), not on the one A returned", p)
			}
			if v != "2" {
				t.Fatalf("B sees %q on the connection it last used, want its own 2", second)
			}
			allIdle(t, tp) // B's last, back: the pool hands it to A
			exec(t, a, "BEGIN")
			if got := queryString(t, a, "SELECT pg_backend_pid()::text"); got != p {
				t.Fatalf("setup: A's transaction runs on %s, want %s (the connection B set 2 on)", got, p)
			}
			third := queryString(t, b, read)
			if pid, v, _ := strings.Cut(third, "/"); pid != q || (v != "2" && v != "-") {
				t.Fatalf("B on connection %s (first %s) sees myapp.f %q, want 2 or none (its older 1 came back)", pid, q, v)
			}
			exec(t, a, "COMMIT")
		})
	}
}

// TestIsolation_FunctionSetTrackedNeverStale: a function that sets a
// tracked parameter the server does not report (work_mem) leaves the
// proxy's copy of the client's value behind; when the client moves to
// another connection, the replay must set the function's value, not the
// one the client SET before. B sets work_mem with SET, then through
// iso_fn on one connection (p); while A holds p, B's next statement runs
// on the other connection.
func TestIsolation_FunctionSetTrackedNeverStale(t *testing.T) {
	for _, mode := range []string{"default", "strict"} {
		t.Run(mode, func(t *testing.T) {
			tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.Isolation = mode })
			isoSetup(t, tp)
			a, b := tp.connect(t, ""), tp.connect(t, "")
			const read = "SELECT pg_backend_pid()::text || '/' || current_setting('work_mem')"
			exec(t, b, "SET work_mem = '1111kB'")
			exec(t, b, "SELECT iso_fn('work_mem', '2222kB')")
			first := queryString(t, b, read)
			p, v, _ := strings.Cut(first, "/")
			if v != "2222kB" {
				t.Fatalf("B sees %q right after its function, want 2222kB", first)
			}
			allIdle(t, tp)
			exec(t, a, "BEGIN")
			if got := queryString(t, a, "SELECT pg_backend_pid()::text"); got != p {
				t.Fatalf("setup: A's transaction runs on %s, want %s (B's connection)", got, p)
			}
			second := queryString(t, b, read)
			if q, v, _ := strings.Cut(second, "/"); q == p || v != "2222kB" {
				t.Fatalf("B on connection %s (first %s) sees work_mem %q, want its function's 2222kB (not its older 1111kB)", q, p, v)
			}
			exec(t, a, "COMMIT")
		})
	}
}

// TestCapture_KeepsUnnamedStatement: the proxy's read-back of tracked
// parameters is a simple Query, which drops the server's unnamed
// statement. A client that parses and describes a statement that sets a
// tracked parameter (or calls a function, once it set one) and then binds
// it, as pgx's describe-exec mode does, must not find its statement gone
// when its Bind arrives while the read-back still holds the connection.
// B's statements wait for the one connection, which A holds in a
// transaction, so that its reply is relayed by the connection's reader
// while B's session reads the Bind; a relay delays the read-back so that
// the Bind always comes first.
func TestCapture_KeepsUnnamedStatement(t *testing.T) {
	cfg, _ := pgconn.ParseConfig(testdb.PGURL(t))
	relay := proxytest.NewRelay(t, net_join(cfg.Host, cfg.Port), delayCapture)
	tp := startProxy(t, 1, func(c *config.Cluster) { c.Address = relay.Addr() })
	isoSetup(t, tp)
	a, b := tp.connect(t, ""), tp.connect(t, "")
	ctx := context.Background()
	for _, q := range []string{"SET work_mem = '1111kB'", "SELECT iso_fn('work_mem', '2222kB')"} {
		exec(t, a, "BEGIN")
		done := make(chan error, 1)
		go func() {
			rows, err := b.Query(ctx, q, pgx.QueryExecModeDescribeExec) // Exec without arguments would use a simple Query
			if err == nil {
				rows.Close()
				err = rows.Err()
			}
			done <- err
		}()
		testdb.Eventually(t, 5*time.Second, time.Millisecond, "B queued", func() bool { return tp.srv.PoolStats().Waiting == 1 })
		exec(t, a, "COMMIT")
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := queryString(t, b, "SELECT current_setting('work_mem')"); got != "2222kB" {
		t.Fatalf("work_mem = %q, want 2222kB", got)
	}
}

// delayCapture copies proxy → database bytes, holding back those of a
// read-back of tracked parameters for 300 ms.
func delayCapture(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if bytes.Contains(buf[:n], []byte("SELECT pg_catalog.current_setting(")) {
				testdb.Elapse(300 * time.Millisecond) // the delay is the point
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestPrepared_SetTakesEffectWhereItRuns: a SET sent as a prepared
// statement (pgx's describe-exec and statement-cache modes: Parse and
// Describe, then Bind and Execute after another Sync) changes the
// parameter when it runs, not when it is parsed; the read-back after the
// Parse saw the old value. B sets work_mem so, then A holds B's
// connection and B reads work_mem on the other one.
func TestPrepared_SetTakesEffectWhereItRuns(t *testing.T) {
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeDescribeExec, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			tp := startProxy(t, 2)
			a, b := tp.connect(t, ""), tp.connect(t, "")
			ctx := context.Background()
			rows, err := b.Query(ctx, "SET work_mem = '1111kB'", mode)
			if err == nil {
				rows.Close()
				err = rows.Err()
			}
			if err != nil {
				t.Fatal(err)
			}
			p := queryString(t, b, "SELECT pg_backend_pid()::text")
			allIdle(t, tp)
			exec(t, a, "BEGIN")
			if got := queryString(t, a, "SELECT pg_backend_pid()::text"); got != p {
				t.Fatalf("setup: A's transaction runs on %s, want %s (B's connection)", got, p)
			}
			got := queryString(t, b, "SELECT pg_backend_pid()::text || '/' || current_setting('work_mem')")
			if q, v, _ := strings.Cut(got, "/"); q == p || v != "1111kB" {
				t.Fatalf("B on connection %s (first %s) sees work_mem %q, want 1111kB", q, p, v)
			}
			exec(t, a, "COMMIT")
		})
	}
}

// TestPrepared_DeallocateAllWhereItRuns: DEALLOCATE ALL parsed on one
// connection and run on another drops the shared statements of the one it
// runs on, which the proxy must prepare again there, and none of the one
// it was parsed on, whose statements the proxy must not prepare again. C
// prepares a statement on q; B parses DEALLOCATE ALL on p, then runs it on
// q while A holds p (A's statement, prepared on p, runs there again); C's
// statement then runs on q again.
func TestPrepared_DeallocateAllWhereItRuns(t *testing.T) {
	tp := startProxy(t, 2)
	a, b, c := tp.connect(t, ""), tp.connect(t, ""), tp.connect(t, "")
	ctx := context.Background()
	const pid = "SELECT pg_backend_pid()::text"
	cpid := func() string {
		var s string
		if err := c.QueryRow(ctx, pid, pgx.QueryExecModeCacheStatement).Scan(&s); err != nil {
			t.Fatalf("C's prepared statement: %v", err)
		}
		return s
	}
	exec(t, a, "BEGIN")
	p := queryString(t, a, pid)
	q := cpid() // prepared on q, the connection A does not hold
	exec(t, a, "COMMIT")
	allIdle(t, tp)
	if _, err := b.PgConn().Prepare(ctx, "", "DEALLOCATE ALL", nil); err != nil {
		t.Fatal(err)
	}
	allIdle(t, tp)
	exec(t, a, "BEGIN")
	if got := queryString(t, a, pid); got != p {
		t.Fatalf("setup: A's second transaction runs on %s, not %s", got, p)
	}
	if _, err := b.PgConn().ExecPrepared(ctx, "", nil, nil, nil).Close(); err != nil {
		t.Fatalf("DEALLOCATE ALL: %v", err)
	}
	if got := cpid(); got != q {
		t.Fatalf("setup: C ran on %s, want %s", got, q)
	}
	exec(t, a, "COMMIT")
}

// allIdle waits until every connection is back in the pool, whose order
// (most recently returned first) the tests above rely on.
func allIdle(t *testing.T, tp *testProxy) {
	t.Helper()
	testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "connections idle", func() bool { return tp.srv.PoolStats().Busy == 0 })
}
