package mysqlproxy

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// isoFixtures creates, once per test binary, the routines, views and
// tables the isolation tests use, for clients tagged a and b: per-client
// names so that any value one client sees can be told apart from the
// other's.
var isoFixtures sync.Once

func createIsoFixtures(t testing.TB, db *sql.DB) {
	t.Helper()
	var err error
	isoFixtures.Do(func() {
		stmts := []string{"CREATE TABLE IF NOT EXISTS iso_plain (i int)"}
		for _, x := range []string{"a", "b"} {
			r := strings.NewReplacer("{x}", x)
			for _, s := range []string{
				"CREATE TABLE IF NOT EXISTS iso_lt_{x} (i int)",
				"CREATE OR REPLACE PROCEDURE iso_setv_{x}(v int) SET @iso_pv_{x} = v",
				"CREATE OR REPLACE PROCEDURE iso_tz_{x}(v varchar(10)) BEGIN SET time_zone = v; SET @iso_px_{x} = 1; END",
				"CREATE OR REPLACE PROCEDURE iso_selinto_{x}(v int) SELECT v INTO @iso_si_{x}",
				"CREATE OR REPLACE PROCEDURE iso_prep_{x}() PREPARE iso_ps_{x} FROM 'SELECT 2'",
				"CREATE OR REPLACE PROCEDURE iso_ptmp_{x}() CREATE TEMPORARY TABLE IF NOT EXISTS sqlgate_test.iso_tmp_{x} (i int)",
				"CREATE OR REPLACE PROCEDURE iso_lwt_{x}(v int) SET SESSION lock_wait_timeout = v",
				"CREATE OR REPLACE FUNCTION iso_fset_{x}(v int) RETURNS int BEGIN SET @iso_fv_{x} = v; RETURN 1; END",
				"CREATE OR REPLACE FUNCTION iso_flock_{x}() RETURNS int RETURN GET_LOCK('iso_flk_{x}', 0)",
				"CREATE OR REPLACE FUNCTION iso_vlockf_{x}() RETURNS int RETURN GET_LOCK('iso_vlk_{x}', 0)",
				"CREATE OR REPLACE VIEW iso_vlock_{x} AS SELECT iso_vlockf_{x}() AS got",
			} {
				stmts = append(stmts, r.Replace(s))
			}
		}
		for _, s := range stmts {
			if _, err = db.Exec(s); err != nil {
				err = fmt.Errorf("%s: %w", s, err)
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// noDBConn opens one client connection through tp without a default
// database.
func noDBConn(t *testing.T, tp *testProxy) *sql.Conn {
	t.Helper()
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/?timeout=5s", tp.db.User, tp.db.Passwd, tp.addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return tp.conn(t, db)
}

// TestSession_NoDatabaseAfterUse: a client that connected without a
// default database never sees the schema another client selected on the
// shared backend, and keeps its own USE across backends.
func TestSession_NoDatabaseAfterUse(t *testing.T) {
	for _, iso := range []string{"default", "strict"} {
		t.Run(iso, func(t *testing.T) {
			tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: 5 * time.Second, noDatabase: true, isolation: iso})
			a, b := noDBConn(t, tp), noDBConn(t, tp)
			mustExec(t, a, "USE mysql")
			if got := queryString(t, b, "SELECT DATABASE()"); got != "" {
				t.Fatalf("B (no database) sees DATABASE() = %q after A's USE mysql", got)
			}
			if got := queryString(t, a, "SELECT DATABASE()"); got != "mysql" {
				t.Fatalf("A sees DATABASE() = %q, want its own mysql", got)
			}
			mustExec(t, b, "USE information_schema")
			_ = a.Close()
			c := noDBConn(t, tp)
			if got := queryString(t, c, "SELECT DATABASE()"); got != "" {
				t.Fatalf("a new client without a database sees %q", got)
			}
			if got := queryString(t, b, "SELECT DATABASE()"); got != "information_schema" {
				t.Fatalf("B sees %q, want its own information_schema", got)
			}
			tp.waitIdle(t)
		})
	}
}

// TestSession_RoutineState: state set inside stored routines never reaches
// another client. What the server reports (SET inside a procedure or
// function) pins the caller, who keeps it; what it does not report (a
// GET_LOCK inside a function) is reset before the backend changes hands.
func TestSession_RoutineState(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: 5 * time.Second})
	createIsoFixtures(t, tp.direct(t))
	db := tp.open(t, "")
	db.SetMaxIdleConns(0)
	t.Run("procedure_sets_tracked_and_user_variable", func(t *testing.T) {
		tp2 := startProxy(t, proxyOpts{pool: 2, borrowTimeout: 5 * time.Second})
		db2 := tp2.open(t, "")
		a, b := tp2.conn(t, db2), tp2.conn(t, db2)
		mustExec(t, a, "CALL iso_tz_a('+03:00')")
		// B borrows the backend A just returned, unless A was pinned.
		if got := queryString(t, b, "SELECT CONCAT(@@time_zone, '/', IFNULL(@iso_px_a, '-'))"); got != "SYSTEM/-" {
			t.Fatalf("B sees %q after A's procedure", got)
		}
		if got := queryString(t, a, "SELECT CONCAT(@@time_zone, '/', @iso_px_a)"); got != "+03:00/1" {
			t.Fatalf("A sees %q, want its own +03:00/1", got)
		}
	})
	t.Run("function_takes_lock", func(t *testing.T) {
		a, b := tp.conn(t, db), tp.conn(t, db)
		if got := queryString(t, a, "SELECT iso_flock_a()"); got != "1" {
			t.Fatalf("GET_LOCK in a function: %q", got)
		}
		if got := queryString(t, b, "SELECT IFNULL(IS_USED_LOCK('iso_flk_a') = CONNECTION_ID(), 0)"); got != "0" {
			t.Fatal("B holds the lock A's function took")
		}
		if got := queryString(t, b, "SELECT IS_FREE_LOCK('iso_flk_a')"); got != "1" {
			t.Fatal("the lock survived the hand-over to B")
		}
	})
	tp.waitIdle(t)
}

// TestSession_ViewOverFunction pins down the line between the modes: a
// lock taken by a function called from a view is invisible to the scan and
// unreported by the server, so only strict isolation keeps it from the
// next client.
func TestSession_ViewOverFunction(t *testing.T) {
	for _, iso := range []string{"default", "strict"} {
		t.Run(iso, func(t *testing.T) {
			tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: 5 * time.Second, isolation: iso})
			createIsoFixtures(t, tp.direct(t))
			db := tp.open(t, "")
			a, b := tp.conn(t, db), tp.conn(t, db)
			if got := queryString(t, a, "SELECT got FROM iso_vlock_a"); got != "1" {
				t.Fatalf("view took no lock: %q", got)
			}
			leaked := queryString(t, b, "SELECT IFNULL(IS_USED_LOCK('iso_vlk_a') = CONNECTION_ID(), 0)") == "1"
			if leaked != (iso == "default") {
				t.Fatalf("isolation %s: B holds A's lock = %v", iso, leaked)
			}
			mustExec(t, b, "DO RELEASE_ALL_LOCKS()")
			_ = a.Close()
			_ = b.Close()
			tp.waitIdle(t)
		})
	}
}

// TestSession_StrictSameClient: strict isolation resets only when the
// backend changes hands; a client that gets its backend back keeps its
// backend-side prepared statements.
func TestSession_StrictSameClient(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: 5 * time.Second, isolation: "strict"})
	db := tp.open(t, "")
	a := tp.conn(t, db)
	tid := queryString(t, a, "SELECT CONNECTION_ID()")
	for range 3 {
		if got := queryString(t, a, "SELECT CONNECTION_ID()"); got != tid {
			t.Fatalf("backend changed: %s → %s", tid, got)
		}
	}
	if n := tp.srv.handOverResets.Load(); n != 0 {
		t.Fatalf("%d resets while one client had the backend", n)
	}
	b := tp.conn(t, db)
	mustExec(t, a, "SET time_zone = '+02:00'")
	if got := queryString(t, b, "SELECT @@time_zone"); got != "SYSTEM" {
		t.Fatalf("B sees time_zone %q", got)
	}
	if got := queryString(t, a, "SELECT @@time_zone"); got != "+02:00" {
		t.Fatalf("A lost its time_zone: %q", got)
	}
	if n := tp.srv.handOverResets.Load(); n < 2 {
		t.Fatalf("%d resets after two hand-overs", n)
	}
	tp.waitIdle(t)
}

// TestSession_PendingReplyNeverPooled: a backend whose reply is still on
// its way (a panic unwound through the relay) is closed on release, never
// pooled; a clean one is pooled.
func TestSession_PendingReplyNeverPooled(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2})
	for _, pending := range []bool{false, true} {
		pb, err := tp.srv.pool.Get(context.Background(), proxy.Login{User: tp.db.User, Password: tp.db.Passwd})
		if err != nil {
			t.Fatal(err)
		}
		if err := pb.Conn.pc.Command([]byte{mysqlwire.ComPing}); err != nil { // its OK stays unread
			t.Fatal(err)
		}
		if !pending {
			if _, err := pb.Conn.pc.ReadPacket(); err != nil {
				t.Fatal(err)
			}
		}
		pb.Conn.pending = pending
		c := &session{srv: tp.srv, be: pb}
		c.putBackend()
		// The pending one is the connection the first round pooled: after
		// its release nothing is idle.
		want := 1
		if pending {
			want = 0
		}
		if got := tp.srv.PoolStats().Idle; got != want {
			t.Fatalf("pending=%v: %d idle connections, want %d", pending, got, want)
		}
		if !pending {
			continue
		}
		if !pb.Conn.broken {
			t.Fatal("a connection with an unread reply was not marked broken")
		}
	}
}

// TestSession_RoutineStateNeverStale: unflagged state a routine sets (a
// SELECT … INTO @v in a procedure) may be lost for its caller when the
// caller changes backends, but never comes back older than the latest
// value. B sets @iso_si_b = 1 on one backend and 2 on the other, then its
// next statement runs on the first while A holds the second: B must see
// 2 or nothing, never 1. The pool hands out its most recently returned
// connection; thread ids check that the statements ran where planned.
func TestSession_RoutineStateNeverStale(t *testing.T) {
	for _, iso := range []string{"default", "strict"} {
		t.Run(iso, func(t *testing.T) {
			tp := startProxy(t, proxyOpts{pool: 2, borrowTimeout: 5 * time.Second, isolation: iso})
			createIsoFixtures(t, tp.direct(t))
			db := tp.open(t, "")
			a, b := tp.conn(t, db), tp.conn(t, db)
			const read = "SELECT CONCAT(CONNECTION_ID(), '/', IFNULL((SELECT VARIABLE_VALUE FROM " +
				"information_schema.USER_VARIABLES WHERE VARIABLE_NAME = 'iso_si_b'), '-'))"
			mustExec(t, a, "START TRANSACTION") // A holds one backend (p) ...
			mustExec(t, b, "CALL iso_selinto_b(1)")
			first := queryString(t, b, read) // ... so B's statements run on the other (q)
			q, v, _ := strings.Cut(first, "/")
			if v != "1" {
				t.Fatalf("B sees %q right after its procedure, want 1", first)
			}
			// B's backend back in the pool before A returns its own, so
			// that A's is the one the pool hands out next.
			testdb.Eventually(t, 3*time.Second, 10*time.Millisecond, "B's backend returned",
				func() bool { return tp.srv.PoolStats().Busy == 1 })
			mustExec(t, a, "COMMIT")
			tp.waitIdle(t) // both returned, A's last: the pool hands it out next
			mustExec(t, b, "CALL iso_selinto_b(2)")
			second := queryString(t, b, read)
			p, v, _ := strings.Cut(second, "/")
			if p == q {
				t.Fatalf("setup: B's second call ran on the backend of its first (%s), not on the one A returned", p)
			}
			if v != "2" {
				t.Fatalf("B sees %q on the backend it last used, want its own 2", second)
			}
			// B's reply can arrive before its backend is back in the pool:
			// wait, so that A's transaction gets the backend B returned last.
			tp.waitIdle(t)
			mustExec(t, a, "START TRANSACTION")
			if got := queryString(t, a, "SELECT CONNECTION_ID()"); got != p {
				t.Fatalf("setup: A's transaction runs on %s, want %s (the backend B set 2 on)", got, p)
			}
			third := queryString(t, b, read)
			if id, v, _ := strings.Cut(third, "/"); id != q || (v != "2" && v != "-") {
				t.Fatalf("B on backend %s (first %s) sees @iso_si_b %q, want 2 or none (its older 1 came back)", id, q, v)
			}
			mustExec(t, a, "COMMIT")
			_ = a.Close()
			_ = b.Close()
			tp.waitIdle(t)
		})
	}
}

// TestSession_ResetDropsRoutineState: COM_RESET_CONNECTION clears what a
// procedure set unflagged, though the session holds no backend when it
// asks and gets the same one back.
func TestSession_ResetDropsRoutineState(t *testing.T) {
	for _, iso := range []string{"default", "strict"} {
		t.Run(iso, func(t *testing.T) {
			tp := startProxy(t, proxyOpts{pool: 1, isolation: iso})
			createIsoFixtures(t, tp.direct(t))
			d := &dialer{addr: tp.addr, defaultDB: tp.db.DBName, timeout: 5e9, initQuery: func() string { return "" }}
			c, err := d.open(context.Background(), proxy.Login{User: tp.db.User, Password: tp.db.Passwd}, d.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			const read = "SELECT IFNULL((SELECT VARIABLE_VALUE FROM information_schema.USER_VARIABLES " +
				"WHERE VARIABLE_NAME = 'iso_si_b'), '-')"
			if _, err := c.exec("CALL iso_selinto_b(7)"); err != nil {
				t.Fatal(err)
			}
			if rows, err := c.query(read); err != nil || rows[0][0] != "7" {
				t.Fatalf("after the procedure: %v %v, want 7", rows, err)
			}
			if err := c.simple([]byte{mysqlwire.ComResetConnection}); err != nil {
				t.Fatal(err)
			}
			if rows, err := c.query(read); err != nil || rows[0][0] != "-" {
				t.Fatalf("after COM_RESET_CONNECTION: %v %v, want no @iso_si_b", rows, err)
			}
		})
	}
}
