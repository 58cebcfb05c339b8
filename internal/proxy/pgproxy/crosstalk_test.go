package pgproxy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// churnDuration is how long the cross-talk test churns (at least 8 s;
// SQLGATE_CHURN_SECONDS overrides it for longer runs).
func churnDuration() time.Duration {
	if v, err := strconv.Atoi(os.Getenv("SQLGATE_CHURN_SECONDS")); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return 8 * time.Second
}

// No client ever receives bytes meant for another: setters change tracked
// parameters and disconnect at once (the proxy's own parameter read-back
// is then still in flight), while probers open connections and must get
// back exactly the k they asked for.
func TestCrossTalk_SetAndLeave(t *testing.T) {
	for _, mode := range []string{"default", "strict"} {
		t.Run(mode, func(t *testing.T) {
			tp := startProxy(t, 2, func(c *config.Cluster) { c.Proxy.Isolation = mode })
			churn(t, tp, churnDuration())
		})
	}
}

func churn(t *testing.T, tp *testProxy, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	stop := time.Now().Add(d)
	var wrong, failed, probes, sets atomic.Int64
	// On a loaded machine the churn runs on past d (by up to 20 s) until
	// the probers have made minProbes probes.
	const minProbes = 100
	hardStop := stop.Add(20 * time.Second)
	running := func() bool {
		now := time.Now()
		return now.Before(stop) || (probes.Load() < minProbes && now.Before(hardStop))
	}
	var firstErr atomic.Value
	fail := func(err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() { // setter
			defer wg.Done()
			for running() {
				c, err := pgx.Connect(ctx, tp.url(""))
				if err != nil {
					fail(err)
					continue
				}
				sql := "SET lock_timeout = 4321"
				if i%2 == 1 {
					sql = "SET statement_timeout = 98765"
				}
				if _, err := c.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
					fail(err)
				}
				sets.Add(1)
				_ = c.Close(ctx) // Terminate right after the reply
			}
		}()
		go func() { // prober
			defer wg.Done()
			for running() {
				c, err := pgx.Connect(ctx, tp.url(""))
				if err != nil {
					fail(err)
					continue
				}
				for j := range 3 {
					k := rand.IntN(1 << 30)
					var got string
					mode := pgx.QueryExecModeSimpleProtocol
					if j == 1 {
						mode = pgx.QueryExecModeCacheStatement
					}
					err := c.QueryRow(ctx, fmt.Sprintf("SELECT %d::text", k), mode).Scan(&got)
					probes.Add(1)
					switch {
					case err != nil:
						fail(err)
					case got != strconv.Itoa(k):
						wrong.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("asked %d, got %q", k, got))
					}
					var lt, st string
					if err := c.QueryRow(ctx, "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
						pgx.QueryExecModeSimpleProtocol).Scan(&lt, &st); err != nil {
						fail(err)
					} else if lt != "0" || st != "0" {
						wrong.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("prober sees lock_timeout=%s statement_timeout=%s", lt, st))
					}
				}
				_ = c.Close(ctx)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d probes, %d sets, %d wrong, %d errors", probes.Load(), sets.Load(), wrong.Load(), failed.Load())
	if wrong.Load() > 0 || failed.Load() > 0 {
		t.Fatalf("%d wrong answers and %d errors in %d probes; first: %v", wrong.Load(), failed.Load(), probes.Load(), firstErr.Load())
	}
	if probes.Load() < minProbes {
		t.Fatalf("only %d probes", probes.Load())
	}
	testdb.Eventually(t, 10*time.Second, 10*time.Millisecond, "backends back", func() bool { return tp.srv.PoolStats().Busy == 0 })
}

// A client that leaves part-way through a protocol exchange: the proxy
// ends the exchange itself (Sync, CopyFail, draining the replies owed),
// reuses the same backend connection at once, and the next client gets
// exactly its own answer.
func TestCrossTalk_LeaveMidway(t *testing.T) {
	tp := startProxy(t, 1)
	d := tp.direct(t)
	exec(t, d, "create table if not exists proxy_leave_copy(a int)")
	cases := []struct {
		name  string
		send  []pgproto3.FrontendMessage
		until func(pgproto3.BackendMessage) bool // read until (nil: leave at once)
	}{
		{"extended without sync", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select 4242"}, &pgproto3.Bind{},
			&pgproto3.Execute{}, &pgproto3.Flush{}}, func(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.DataRow); return ok }},
		{"copy in", []pgproto3.FrontendMessage{&pgproto3.Query{String: "copy proxy_leave_copy from stdin"}},
			func(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.CopyInResponse); return ok }},
		{"pipelined queries", []pgproto3.FrontendMessage{&pgproto3.Query{String: "select 1"}, &pgproto3.Query{String: "set lock_timeout = 999"},
			&pgproto3.Query{String: "select pg_sleep(0.05)"}}, nil},
		{"transaction with unsynced insert", []pgproto3.FrontendMessage{&pgproto3.Query{String: "begin"},
			&pgproto3.Parse{Query: "insert into proxy_leave_copy values (1)"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{}},
			func(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.CommandComplete); return ok }},
	}
	ctx := context.Background()
	pid := queryString(t, tp.connect(t, ""), "select pg_backend_pid()::text")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tp.connect(t, "")
			exec(t, c, "select 1")
			fe := c.PgConn().Frontend()
			for _, m := range tc.send {
				fe.Send(m)
			}
			if err := fe.Flush(); err != nil {
				t.Fatal(err)
			}
			for tc.until != nil {
				m, err := fe.Receive()
				if err != nil {
					t.Fatal(err)
				}
				if tc.until(m) {
					break
				}
			}
			_ = c.PgConn().Conn().Close()
			start := time.Now()
			p := tp.connect(t, "")
			k := strconv.Itoa(rand.IntN(1 << 30))
			if got := queryString(t, p, "select "+k+"::text"); got != k {
				t.Fatalf("asked %s, got %q", k, got)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Fatalf("next client waited %v", el)
			}
			if got := queryString(t, p, "select pg_backend_pid()::text || current_setting('lock_timeout')"); got != pid+"0" {
				t.Fatalf("backend %s, want the same connection %s with lock_timeout 0", got, pid)
			}
			_ = p.Close(ctx)
		})
	}
	if got := queryString(t, d, "select count(*)::text from proxy_leave_copy"); got != "0" {
		t.Fatalf("rows kept from a transaction the client abandoned: %s", got)
	}
}

// isolation: strict resets the session on every hand-over to a different
// client and runs init_query again, as on a new connection; the same
// client getting the connection back keeps it untouched.
func TestStrict_ResetKeepsInitQuery(t *testing.T) {
	tp := startProxy(t, 1, func(c *config.Cluster) {
		c.Proxy.Isolation = "strict"
		c.Proxy.InitQuery = "SET myapp.init = 'yes'"
	})
	a, b := tp.connect(t, ""), tp.connect(t, "")
	for range 3 { // hand-overs between two unpinned clients
		exec(t, a, "select 1")
		if got := queryString(t, b, "select current_setting('myapp.init')"); got != "yes" {
			t.Fatalf("after a strict reset init_query's setting is %q", got)
		}
	}
	exec(t, a, "set myapp.v = 'a'") // pins a
	if got := queryString(t, a, "select current_setting('myapp.v')"); got != "a" {
		t.Fatalf("a lost its own setting: %q", got)
	}
	_ = a.Close(context.Background())
	for range 3 {
		if got := queryString(t, b, "select coalesce(current_setting('myapp.v', true), '') || '/' || current_setting('myapp.init')"); got != "/yes" {
			t.Fatalf("b sees %q, want \"/yes\"", got)
		}
	}
}
