package mysqlproxy

import (
	"context"
	"database/sql"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestServer_Storm at CI scale: 1,000 short-lived clients (one
// connection per query, like Lambda) over 10 backend connections.
func TestServer_Storm(t *testing.T) {
	const clients, backends = 1000, 10
	tp := startProxy(t, proxyOpts{pool: backends, borrowTimeout: 30 * time.Second})
	db := tp.open(t, "")
	db.SetMaxIdleConns(0) // every query opens and closes a client connection
	db.SetMaxOpenConns(200)
	peak := proxytest.Peak(func() int64 { st := tp.srv.PoolStats(); return int64(st.Busy + st.Idle) })
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				var n int
				err = db.QueryRow("SELECT 1").Scan(&n)
			} else {
				err = oneRowTx(db)
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	maxBackends := peak()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d clients failed, first: %v", n, clients, firstErr.Load())
	}
	if m := maxBackends; m > backends {
		t.Fatalf("%d backend connections, budget %d", m, backends)
	}
	tp.waitIdle(t)
}

func oneRowTx(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow("SELECT 1").Scan(&n); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// TestServer_TooManyClients: above max_client_connections a client gets
// ER_CON_COUNT_ERROR, never a hang.
func TestServer_TooManyClients(t *testing.T) {
	tp := startProxy(t, proxyOpts{maxClients: 2})
	db := tp.open(t, "")
	a, b := tp.conn(t, db), tp.conn(t, db)
	_, _ = a, b
	db2 := tp.open(t, "")
	err := db2.Ping()
	if mysqlErrNo(err) != erConCount {
		t.Fatalf("third client: %v, want 1040", err)
	}
}

// TestServer_BorrowTimeout: with both backends held in
// transactions a third client gets a clear 1205-class error.
func TestServer_BorrowTimeout(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2, borrowTimeout: 300 * time.Millisecond})
	db := tp.open(t, "")
	for range 2 {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "SELECT 1")
		t.Cleanup(func() { _ = tx.Rollback() })
	}
	start := time.Now()
	_, err := db.Exec("SELECT 1")
	if mysqlErrNo(err) != erLockWaitTimeout || !strings.Contains(err.Error(), "borrow_timeout") {
		t.Fatalf("third client: %v, want 1205 mentioning borrow_timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("borrow timeout took %v", d)
	}
}

// TestServer_BackendRestart: the database goes away and comes back.
// A transaction in flight fails with 2013; idle clients survive; while
// the database is down new statements fail fast; afterwards they work.
func TestServer_BackendRestart(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2, relay: true})
	db := tp.open(t, "")
	idle, inTx := tp.conn(t, db), tp.conn(t, db)
	mustExec(t, idle, "SELECT 1")
	mustExec(t, inTx, "BEGIN")
	mustExec(t, inTx, "SELECT 1")

	tp.relay.SetMode(proxytest.Refuse)
	tp.relay.Reset()
	_, err := inTx.ExecContext(context.Background(), "SELECT 1")
	if mysqlErrNo(err) != crServerLost {
		t.Fatalf("statement in a broken transaction: %v, want 2013", err)
	}
	testdb.Elapse(validateAfter + 100*time.Millisecond) // idle backends now get pinged
	start := time.Now()
	if _, err := idle.ExecContext(context.Background(), "SELECT 1"); err == nil {
		t.Fatal("statement succeeded while the database is down")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("failing while down took %v (want fail-fast)", d)
	}
	tp.relay.SetMode(proxytest.Pass)
	testdb.Eventually(t, 10*time.Second, 50*time.Millisecond, "statements work after the restart (pool retry delay)", func() bool {
		var n int
		return idle.QueryRowContext(context.Background(), "SELECT 2").Scan(&n) == nil && n == 2
	})
}

var (
	captureOnce sync.Once
	captured    = make(chan net.Conn, 16)
)

// captureDSN registers a dialer that hands test code the client's TCP
// connection, so it can drop the connection without a COM_QUIT.
func captureDSN(tp *testProxy) string {
	captureOnce.Do(func() {
		mysql.RegisterDialContext("capture", func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			if err == nil {
				captured <- c
			}
			return c, err
		})
	})
	return strings.Replace(tp.dsn(""), "@tcp(", "@capture(", 1)
}

// TestSession_ClientGone: a client that disappears inside a
// transaction gets exactly one ROLLBACK, its row never lands, and the
// backend goes back to the pool; a client dropping mid-result leaks no
// busy backend either.
func TestSession_ClientGone(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2, relay: true})
	direct := tp.direct(t)
	mustExec(t, direct, "CREATE TABLE IF NOT EXISTS gone (v varchar(20))")
	mustExec(t, direct, "DELETE FROM gone WHERE v = 'gone-1'")
	db, err := sql.Open("mysql", captureDSN(tp))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Run("in transaction", func(t *testing.T) {
		c := tp.conn(t, db)
		nc := <-captured
		mustExec(t, c, "BEGIN")
		mustExec(t, c, "INSERT INTO gone VALUES ('gone-1')")
		before := tp.relay.count("ROLLBACK")
		_ = nc.(*net.TCPConn).SetLinger(0)
		_ = nc.Close()
		tp.waitIdle(t)
		if got := tp.relay.count("ROLLBACK") - before; got != 1 {
			t.Fatalf("%d ROLLBACKs reached the database, want 1", got)
		}
		if got := queryString(t, direct, "SELECT COUNT(*) FROM gone WHERE v = 'gone-1'"); got != "0" {
			t.Fatalf("row of the abandoned transaction is visible (%s)", got)
		}
	})
	t.Run("mid result", func(t *testing.T) {
		c := tp.conn(t, db)
		nc := <-captured
		rows, err := c.QueryContext(context.Background(), "SELECT REPEAT('x', 1000) FROM seq_1_to_200000")
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		_ = nc.Close()
		_ = rows.Close()
		tp.waitIdle(t)
	})
	t.Run("running query", func(t *testing.T) {
		c := tp.conn(t, db)
		nc := <-captured
		mustExec(t, c, "BEGIN")
		before := tp.relay.count("ROLLBACK")
		go func() { _, _ = c.ExecContext(context.Background(), "SELECT SLEEP(30)") }()
		testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "SLEEP(30) running", func() bool { return tp.runningSession("SLEEP(30)") != 0 })
		start := time.Now()
		_ = nc.Close()
		tp.waitIdle(t)
		if d := time.Since(start); d > proxy.WatchAfter+2*time.Second {
			t.Fatalf("backend busy for %v after the client left", d)
		}
		if tp.relay.countPrefix("KILL QUERY") != 1 {
			t.Fatal("no KILL QUERY reached the database")
		}
		if got := tp.relay.count("ROLLBACK") - before; got != 1 {
			t.Fatalf("%d ROLLBACKs, want 1", got)
		}
	})
	if got := queryString(t, tp.open(t, ""), "SELECT 7"); got != "7" {
		t.Fatalf("pool unusable afterwards: %q", got)
	}
}

// TestServer_Shutdown: a transaction in flight may finish; idle
// clients are closed; new clients are refused.
func TestServer_Shutdown(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2})
	db := tp.open(t, "")
	idle, busy := tp.conn(t, db), tp.conn(t, db)
	mustExec(t, idle, "SELECT 1")
	mustExec(t, busy, "BEGIN")
	mustExec(t, busy, "SELECT 1")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- tp.srv.Shutdown(ctx)
	}()
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "new clients refused (draining)", func() bool { return ping(tp.dsn("")) != nil })
	mustExec(t, busy, "SELECT 2")
	mustExec(t, busy, "COMMIT")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("shutdown did not finish after the transaction ended")
	}
	if _, err := idle.ExecContext(context.Background(), "SELECT 1"); err == nil {
		t.Fatal("idle client still served after shutdown")
	}
	if err := tp.open(t, "").Ping(); err == nil {
		t.Fatal("new client accepted after shutdown")
	}
}

// TestSession_KillQuery: KILL QUERY <proxy connection id> stops the
// statement on the right backend thread and nothing else.
func TestSession_KillQuery(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 3})
	db := tp.open(t, "")
	victim, bystander, killer := tp.conn(t, db), tp.conn(t, db), tp.conn(t, db)
	mustExec(t, victim, "SELECT 1")
	mustExec(t, bystander, "SELECT 1")
	errs := make(chan error, 2)
	start := time.Now()
	var victimID uint32
	go func() { _, err := victim.ExecContext(context.Background(), "SELECT SLEEP(20)"); errs <- err }()
	bystanderDone := make(chan time.Duration, 1)
	go func() {
		s := time.Now()
		_, _ = bystander.ExecContext(context.Background(), "SELECT SLEEP(1)")
		bystanderDone <- time.Since(s)
	}()
	testdb.Eventually(t, 3*time.Second, 10*time.Millisecond, "victim session running", func() bool {
		victimID = tp.runningSession("SLEEP(20)")
		return victimID != 0
	})
	if _, err := killer.ExecContext(context.Background(), "KILL QUERY "+itoa(int64(victimID))); err != nil {
		t.Fatalf("KILL QUERY: %v", err)
	}
	if err := <-errs; err != nil && mysqlErrNo(err) != 1317 {
		t.Fatalf("victim: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("victim ran %v after KILL QUERY", d)
	}
	if d := <-bystanderDone; d < 900*time.Millisecond {
		t.Fatalf("bystander's query was cut short (%v)", d)
	}
	_, err := killer.ExecContext(context.Background(), "KILL QUERY 999999")
	if mysqlErrNo(err) != erNoSuchThread {
		t.Fatalf("KILL of an unknown id: %v, want 1094", err)
	}
	if got := queryString(t, victim, "SELECT 3"); got != "3" {
		t.Fatalf("victim unusable after KILL QUERY: %q", got)
	}
}

// TestSession_KillQueued: KILL CONNECTION of a session queued for a
// backend (the pool's only one is held in another client's transaction)
// ends it at once, not at the borrow timeout, and the backend then
// serves the others.
func TestSession_KillQueued(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: time.Minute})
	db := tp.open(t, "")
	holder, killer := tp.conn(t, db), tp.conn(t, db)
	before := sessionIDs(tp)
	victim := tp.conn(t, db)
	var victimID uint32
	for id := range sessionIDs(tp) {
		if !before[id] {
			victimID = id
		}
	}
	if victimID == 0 {
		t.Fatal("no new session for the victim")
	}
	mustExec(t, holder, "BEGIN")
	mustExec(t, holder, "SELECT 1")
	errs := make(chan error, 1)
	go func() { _, err := victim.ExecContext(context.Background(), "SELECT 2"); errs <- err }()
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "the victim queued for the backend", func() bool { return tp.srv.PoolStats().Waiting == 1 })
	start := time.Now()
	if _, err := killer.ExecContext(context.Background(), "KILL CONNECTION "+itoa(int64(victimID))); err != nil {
		t.Fatalf("KILL CONNECTION: %v", err)
	}
	select {
	case err := <-errs:
		if err == nil {
			t.Fatal("the killed client's statement succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the killed client's statement still waits")
	}
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "the killed session ended", func() bool { return !sessionIDs(tp)[victimID] })
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the killed session ended after %v", d)
	}
	if n := tp.srv.PoolStats().Waiting; n != 0 {
		t.Fatalf("%d borrows still queued", n)
	}
	mustExec(t, holder, "COMMIT")
	if got := queryString(t, killer, "SELECT 3"); got != "3" {
		t.Fatalf("the backend after the kill: %q", got)
	}
}

// sessionIDs returns the proxy ids of the current sessions.
func sessionIDs(tp *testProxy) map[uint32]bool {
	tp.srv.mu.Lock()
	defer tp.srv.mu.Unlock()
	ids := map[uint32]bool{}
	for id := range tp.srv.sessions {
		ids[id] = true
	}
	return ids
}

// runningSession returns the proxy id of the session running sql.
func (tp *testProxy) runningSession(sql string) uint32 {
	tp.srv.mu.Lock()
	defer tp.srv.mu.Unlock()
	for id, c := range tp.srv.sessions {
		c.mu.Lock()
		running := c.running != nil && strings.Contains(string(c.runningSQL), sql)
		c.mu.Unlock()
		if running {
			return id
		}
	}
	return 0
}
