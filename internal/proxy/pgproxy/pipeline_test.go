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

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
)

// pipeModes are the ways the load clients send a statement: simple
// protocol, unnamed Parse/Bind/Describe/Execute/Sync, and a prepared
// statement's Bind/Execute/Sync.
var pipeModes = []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec, pgx.QueryExecModeCacheStatement}

// pipeLoadResult is what a pipeLoad saw.
type pipeLoadResult struct {
	ok, sqlErrs, connErrs atomic.Int64
}

// pipeLoad runs clients that each send iters statements with answers
// only they can expect (some fail with division by zero) and, when table
// is set, every fifth one a transaction that must see its own insert. A
// wrong answer fails the test; a connection error makes the client
// reconnect when tolerate is set and fails the test otherwise.
func pipeLoad(t *testing.T, tp *testProxy, clients, iters int, table string, tolerate bool) *pipeLoadResult {
	t.Helper()
	res := &pipeLoadResult{}
	var wg sync.WaitGroup
	for id := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pipeClient(tp, id, iters, table, tolerate, res); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	return res
}

func pipeClient(tp *testProxy, id, iters int, table string, tolerate bool, res *pipeLoadResult) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var c *pgx.Conn
	defer func() {
		if c != nil {
			_ = c.Close(context.Background())
		}
	}()
	for k := 0; k < iters; k++ {
		if c == nil {
			var err error
			if c, err = pgx.Connect(ctx, tp.url("")); err != nil {
				var pe *pgconn.PgError
				if !tolerate || !errors.As(err, &pe) || pe.Code[:2] != "08" {
					return fmt.Errorf("client %d: connect: %w", id, err)
				}
				// The proxy could not reach the database for this
				// login: a connection error like the others.
				res.connErrs.Add(1)
				continue
			}
		}
		err := pipeStep(ctx, c, id, k, table)
		var pe *pgconn.PgError
		switch {
		case err == nil:
			res.ok.Add(1)
		case errors.As(err, &pe) && pe.Code == "22012":
			res.sqlErrs.Add(1)
		case errors.Is(err, errWrongAnswer) || !tolerate:
			return fmt.Errorf("client %d step %d: %w", id, k, err)
		default:
			res.connErrs.Add(1)
			_ = c.Close(context.Background())
			c = nil
		}
	}
	return nil
}

var errWrongAnswer = errors.New("wrong answer")

// pipeStep runs statement k of client id and checks its answer.
func pipeStep(ctx context.Context, c *pgx.Conn, id, k int, table string) error {
	mode := pipeModes[(id+k)%len(pipeModes)]
	want := int64(id)*1_000_000 + int64(k)
	switch {
	case table != "" && k%5 == 4:
		return pipeTx(ctx, c, id, k, table)
	case (id+k)%7 == 3:
		var n int64
		err := c.QueryRow(ctx, "select /*pipe*/ 1 / ($1::int - $1::int)", mode, k).Scan(&n)
		if err == nil {
			return fmt.Errorf("%w: division by zero returned %d", errWrongAnswer, n)
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code != "22012" && pe.Code[:2] != "08" {
			return fmt.Errorf("%w: division by zero: %v", errWrongAnswer, err)
		}
		return err
	}
	var got int64
	if err := c.QueryRow(ctx, "select /*pipe*/ $1::bigint * 1000000 + $2::bigint", mode, id, k).Scan(&got); err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: got %d, want %d", errWrongAnswer, got, want)
	}
	return nil
}

// pipeTx inserts a row in a transaction, which must see it, and rolls back.
func pipeTx(ctx context.Context, c *pgx.Conn, id, k int, table string) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "insert into "+table+" values ($1, $2)", id, k); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, "select count(*) from "+table+" where id = $1 and k = $2", id, k).Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%w: own insert seen %d times in its transaction", errWrongAnswer, n)
	}
	return tx.Rollback(ctx)
}

func pipeTable(t *testing.T, tp *testProxy) string {
	t.Helper()
	d := tp.direct(t)
	name := fmt.Sprintf("pipe_t_%d", time.Now().UnixNano())
	exec(t, d, "create table "+name+" (id int, k int)")
	t.Cleanup(func() { exec(t, d, "drop table "+name) })
	return name
}

// Many clients over two backends: pipelines of several units form, and
// every client gets its own answers and errors; transactions see their
// own rows.
func TestServer_pipeline(t *testing.T) {
	tp := startProxy(t, 2)
	res := pipeLoad(t, tp, 32, 60, pipeTable(t, tp), false)
	if res.sqlErrs.Load() == 0 || res.ok.Load() == 0 {
		t.Fatalf("ok %d, sql errors %d: want both", res.ok.Load(), res.sqlErrs.Load())
	}
	if tp.srv.pipelines.Load() == 0 {
		t.Fatal("no pipeline of more than one unit formed")
	}
	t.Logf("%d pipelines carried %d units", tp.srv.pipelines.Load(), tp.srv.pipedUnits.Load())
	var out strings.Builder
	tp.reg.Write(&out)
	for what, n := range map[string]uint64{"writes": tp.srv.pipelines.Load(), "queries": tp.srv.pipedUnits.Load()} {
		if want := fmt.Sprintf(`sqlgate_proxy_pipelined_total{cluster=%q,what=%q} %d`, tp.srv.core.Cluster(), what, n); !strings.Contains(out.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// isolation: strict hands a backend to one client at a time, reset in
// between: nothing is pipelined.
func TestServer_pipelineStrict(t *testing.T) {
	tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.Isolation = config.IsolationStrict })
	res := pipeLoad(t, tp, 16, 30, "", false)
	if res.ok.Load() == 0 {
		t.Fatal("no statement succeeded")
	}
	if n := tp.srv.pipelines.Load(); n != 0 {
		t.Fatalf("%d pipelines with isolation: strict", n)
	}
}

// Backends reset (a crash as the proxy sees it) right after pipelines
// went out: clients get their own answers or connection errors, never
// another client's answer.
func TestServer_pipelineBackendLost(t *testing.T) {
	var resets atomic.Int64
	r := proxytest.NewPipeKiller(t, pgAddr(t), []byte("/*pipe*/"), &resets)
	tp := startProxy(t, 2, func(c *config.Cluster) { c.Address = r.Addr() })
	res := pipeLoad(t, tp, 24, 60, "", true)
	if res.connErrs.Load() == 0 {
		t.Fatal("no client saw the backends lost")
	}
	if tp.srv.pipelines.Load() == 0 {
		t.Fatal("no pipeline formed")
	}
	t.Logf("ok %d, sql errors %d, connection errors %d, pipelines %d, pipelined writes reset %d",
		res.ok.Load(), res.sqlErrs.Load(), res.connErrs.Load(), tp.srv.pipelines.Load(), resets.Load())
}

// A pipeline whose write fails before any byte went out: every unit
// that joined it is retried on another backend and answered; only the
// client leading it gets a connection error.
func TestServer_pipelineWriteFails(t *testing.T) {
	var faults atomic.Int64
	pipeFlushHook = func(b *backend) {
		if faults.Add(1)%4 == 1 { // the first, then every fourth
			_ = b.conn.Close() // the flush writes nothing
		}
	}
	t.Cleanup(func() { pipeFlushHook = nil })
	tp := startProxy(t, 2)
	res := pipeLoad(t, tp, 24, 40, "", true)
	retries := tp.srv.pipeRetries.Load()
	if retries == 0 {
		t.Fatal("no unit was retried")
	}
	// The leaders of the failed pipelines lose their connection; the
	// units behind them were never sent and are answered elsewhere.
	if failed := (faults.Load() + 3) / 4; res.connErrs.Load() > failed {
		t.Fatalf("%d connection errors for %d failed pipeline writes", res.connErrs.Load(), failed)
	}
	t.Logf("ok %d, sql errors %d, connection errors %d, pipelines %d, units retried %d",
		res.ok.Load(), res.sqlErrs.Load(), res.connErrs.Load(), tp.srv.pipelines.Load(), retries)
}
