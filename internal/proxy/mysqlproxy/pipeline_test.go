package mysqlproxy

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
)

// pipeLoadResult is what a pipeLoad saw.
type pipeLoadResult struct {
	ok, sqlErrs, connErrs atomic.Int64
}

var errWrongAnswer = errors.New("wrong answer")

// pipeLoad runs clients that each send iters statements with answers
// only they can expect, half as COM_QUERY and half as executes of
// statements they prepared (every seventh fails at run time: a subquery
// returning two rows) and, when table is set, every fifth one a
// transaction that must see its own insert. A wrong answer or a reply
// out of sequence fails the test; a connection error makes the client
// reconnect when tolerate is set and fails the test otherwise.
func pipeLoad(t *testing.T, tp *testProxy, clients, iters int, table string, tolerate bool) *pipeLoadResult {
	t.Helper()
	db := tp.open(t, "")
	db.SetMaxOpenConns(clients + 4)
	db.SetMaxIdleConns(clients + 4)
	res := &pipeLoadResult{}
	var wg sync.WaitGroup
	for id := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pipeClient(db, id, iters, table, tolerate, res); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	return res
}

// pipeConn is one client connection with its prepared statements.
type pipeConn struct {
	c         *sql.Conn
	val, fail *sql.Stmt
}

func openPipeConn(ctx context.Context, db *sql.DB) (*pipeConn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	pc := &pipeConn{c: c}
	if pc.val, err = c.PrepareContext(ctx, "SELECT /*pipe*/ ? * 1000000 + ?"); err == nil {
		pc.fail, err = c.PrepareContext(ctx, "SELECT /*pipe*/ (SELECT 1 UNION SELECT ?)")
	}
	if err != nil {
		pc.close()
		return nil, err
	}
	return pc, nil
}

func (pc *pipeConn) close() {
	for _, st := range []*sql.Stmt{pc.val, pc.fail} {
		if st != nil {
			_ = st.Close()
		}
	}
	_ = pc.c.Raw(func(any) error { return driver.ErrBadConn }) // discarded, never back to database/sql's pool
	_ = pc.c.Close()
}

func pipeClient(db *sql.DB, id, iters int, table string, tolerate bool, res *pipeLoadResult) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var pc *pipeConn
	defer func() {
		if pc != nil {
			pc.close()
		}
	}()
	for k := 0; k < iters; k++ {
		if pc == nil {
			var err error
			if pc, err = openPipeConn(ctx, db); err != nil {
				if !tolerate || !connError(err) {
					return fmt.Errorf("client %d: connect: %w", id, err)
				}
				res.connErrs.Add(1)
				continue
			}
		}
		err := pipeStep(ctx, pc, id, k, table)
		switch {
		case err == nil:
			res.ok.Add(1)
		case mysqlErrNo(err) == 1242:
			res.sqlErrs.Add(1)
		case !tolerate || !connError(err):
			return fmt.Errorf("client %d step %d: %w", id, k, err)
		default:
			res.connErrs.Add(1)
			if mysqlErrNo(err) != 2013 { // 2013 from the proxy: the session goes on
				pc.close()
				pc = nil
			}
		}
	}
	return nil
}

// connError reports whether err is a lost connection as the proxy
// reports it (2013; 2003 while the pool fails fast after the database
// dropped every connection) or as the driver sees it; a reply out of sequence
// or malformed (another client's bytes) is not one.
func connError(err error) bool {
	if errors.Is(err, errWrongAnswer) || errors.Is(err, mysql.ErrPktSync) || errors.Is(err, mysql.ErrPktSyncMul) ||
		errors.Is(err, mysql.ErrMalformPkt) {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 2013 || me.Number == 2003
	}
	return true
}

// pipeStep runs statement k of client id and checks its answer.
func pipeStep(ctx context.Context, pc *pipeConn, id, k int, table string) error {
	prepared := (id+k)%2 == 1
	want := int64(id)*1_000_000 + int64(k)
	switch {
	case table != "" && k%5 == 4:
		return pipeTx(ctx, pc.c, id, k, table)
	case (id+k)%7 == 3:
		var n int64
		var err error
		if prepared {
			err = pc.fail.QueryRowContext(ctx, 2).Scan(&n)
		} else {
			err = pc.c.QueryRowContext(ctx, "SELECT /*pipe*/ (SELECT 1 UNION SELECT 2)").Scan(&n)
		}
		if err == nil {
			return fmt.Errorf("%w: a failing statement returned %d", errWrongAnswer, n)
		}
		return err
	}
	var got int64
	var err error
	if prepared {
		err = pc.val.QueryRowContext(ctx, id, k).Scan(&got)
	} else {
		err = pc.c.QueryRowContext(ctx, fmt.Sprintf("SELECT /*pipe*/ %d * 1000000 + %d", id, k)).Scan(&got)
	}
	if mysqlErrNo(err) == 1242 {
		return fmt.Errorf("%w: another client's error: %v", errWrongAnswer, err)
	}
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: got %d, want %d", errWrongAnswer, got, want)
	}
	return nil
}

// pipeTx inserts a row in a transaction, which must see it, and rolls back.
func pipeTx(ctx context.Context, c *sql.Conn, id, k int, table string) error {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, %d)", table, id, k)); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE id = %d AND k = %d", table, id, k)).Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%w: own insert seen %d times in its transaction", errWrongAnswer, n)
	}
	return tx.Rollback()
}

func pipeTable(t *testing.T, tp *testProxy) string {
	t.Helper()
	d := tp.direct(t)
	name := fmt.Sprintf("pipe_t_%d", time.Now().UnixNano())
	mustExec(t, d, "CREATE TABLE "+name+" (id int, k int)")
	t.Cleanup(func() { mustExec(t, d, "DROP TABLE "+name) })
	return name
}

// Many clients over two backends: pipelines of several units form, and
// every client gets its own answers and errors; transactions see their
// own rows.
func TestServer_pipeline(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2})
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
		if want := fmt.Sprintf(`sqlgate_proxy_pipelined_total{cluster=%q,what=%q} %d`, tp.srv.px.Cluster(), what, n); !strings.Contains(out.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	tp.waitIdle(t)
}

// isolation: strict resets the session on every hand-over to another
// client: nothing is pipelined.
func TestServer_pipelineStrict(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2, isolation: "strict"})
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
	r := proxytest.NewPipeKiller(t, mysqlDSN(t).Addr, []byte("/*pipe*/"), &resets)
	tp := startProxy(t, proxyOpts{pool: 2, address: r.Addr()})
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
// that joined it is borrowed again and answered; only the client
// leading it gets a connection error (2013, its session goes on).
func TestServer_pipelineWriteFails(t *testing.T) {
	var faults atomic.Int64
	pipeFlushHook = func(be *backendConn) {
		if faults.Add(1)%4 == 1 { // the first, then every fourth
			_ = be.pc.Close() // the flush writes nothing
		}
	}
	t.Cleanup(func() { pipeFlushHook = nil })
	tp := startProxy(t, proxyOpts{pool: 2})
	res := pipeLoad(t, tp, 24, 40, "", true)
	retries := tp.srv.pipeRetries.Load()
	if retries == 0 {
		t.Fatal("no unit was retried")
	}
	if failed := (faults.Load() + 3) / 4; res.connErrs.Load() > failed {
		t.Fatalf("%d connection errors for %d failed pipeline writes", res.connErrs.Load(), failed)
	}
	t.Logf("ok %d, sql errors %d, connection errors %d, pipelines %d, units retried %d",
		res.ok.Load(), res.sqlErrs.Load(), res.connErrs.Load(), tp.srv.pipelines.Load(), retries)
}

// A pipelined INSERT whose trigger sets a user variable leaves the
// database session changed: that client's connection is closed (its
// session state went with the database connection) and the units behind
// it get 2013, never a reply given in that state; everyone else still
// gets their own answers.
func TestServer_pipelineStateChange(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2})
	table := pipeTable(t, tp)
	mustExec(t, tp.direct(t), "CREATE TRIGGER "+table+"_trg AFTER INSERT ON "+table+" FOR EACH ROW SET @pipe_trg = NEW.k")
	db := tp.open(t, "")
	db.SetMaxOpenConns(40)
	var connErrs atomic.Int64
	var wg sync.WaitGroup
	for id := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pipeTrigClient(db, id, table, &connErrs); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if tp.srv.pipelines.Load() == 0 {
		t.Fatal("no pipeline formed")
	}
	var out strings.Builder
	tp.reg.Write(&out)
	t.Logf("pipelines %d, connection errors %d", tp.srv.pipelines.Load(), connErrs.Load())
	if !strings.Contains(out.String(), `kind="pipeline_state"`) {
		t.Error("no pipelined unit was found to change the session")
	}
}

// pipeTrigClient inserts through the trigger (every fourth client, a
// session per insert: the trigger pins it when it runs alone) or selects
// values only it expects, on sessions past their first command (which
// never joins a pipeline).
func pipeTrigClient(db *sql.DB, id int, table string, connErrs *atomic.Int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var c *sql.Conn
	drop := func() {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
		_ = c.Close()
		c = nil
	}
	defer func() {
		if c != nil {
			drop()
		}
	}()
	for k := range 40 {
		if c == nil {
			var err error
			if c, err = db.Conn(ctx); err != nil {
				return err
			}
			if _, err := c.ExecContext(ctx, "DO 0"); err != nil {
				return err
			}
		}
		var err error
		if id%4 == 0 {
			_, err = c.ExecContext(ctx, fmt.Sprintf("INSERT /*pipe*/ INTO %s VALUES (%d, %d)", table, id, k))
			if err == nil {
				drop()
			}
		} else {
			var got int64
			err = c.QueryRowContext(ctx, fmt.Sprintf("SELECT /*pipe*/ %d * 1000000 + %d", id, k)).Scan(&got)
			if err == nil && got != int64(id)*1_000_000+int64(k) {
				return fmt.Errorf("client %d step %d: %w: got %d", id, k, errWrongAnswer, got)
			}
		}
		if err != nil {
			if !connError(err) {
				return fmt.Errorf("client %d step %d: %w", id, k, err)
			}
			connErrs.Add(1)
			drop()
		}
	}
	return nil
}
