package pgproxy

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// countInline counts the replies relayed by sessions' own goroutines.
func countInline(tp *testProxy) *atomic.Int64 {
	var n atomic.Int64
	f := func() { n.Add(1) }
	tp.srv.inlineHook.Store(&f)
	return &n
}

// A client alone on the proxy gets its replies relayed by its own
// session goroutine, for autocommit statements and for a transaction,
// whose statements after BEGIN go through the backend's reader; the
// backend goes back to the pool after each unit that leaves it idle.
func TestInline_Units(t *testing.T) {
	tp := startProxy(t, 1)
	d := tp.direct(t)
	exec(t, d, "create table if not exists proxy_inline(a int)")
	exec(t, d, "truncate proxy_inline")
	inline := countInline(tp)
	c := tp.connect(t, "")
	other := tp.connect(t, "")
	cases := []struct {
		name       string
		run        func(t *testing.T)
		minInlined int64
	}{
		{"simple", func(t *testing.T) {
			if got := queryString(t, c, "select 'x'::text", pgx.QueryExecModeSimpleProtocol); got != "x" {
				t.Fatal(got)
			}
		}, 1},
		{"extended", func(t *testing.T) {
			if got := queryString(t, c, "select $1::text", "y"); got != "y" {
				t.Fatal(got)
			}
		}, 1},
		{"commit", func(t *testing.T) {
			exec(t, c, "begin")
			exec(t, c, "insert into proxy_inline values (1)")
			exec(t, c, "commit")
		}, 1},
		{"rollback", func(t *testing.T) {
			exec(t, c, "begin")
			exec(t, c, "insert into proxy_inline values (2)")
			exec(t, c, "rollback")
		}, 1},
		{"error in transaction", func(t *testing.T) {
			exec(t, c, "begin")
			if _, err := c.Exec(context.Background(), "select 1/0"); err == nil {
				t.Fatal("no error")
			}
			exec(t, c, "rollback")
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The previous case's client has its answer a moment before
			// the proxy puts the backend back: found busy, it would be
			// handed over by its relay, not borrowed idle.
			testdb.Eventually(t, 5*time.Second, time.Millisecond, "the backend idle", func() bool { return tp.srv.PoolStats().Busy == 0 })
			before := inline.Load()
			tc.run(t)
			if n := inline.Load() - before; n < tc.minInlined {
				t.Fatalf("%d replies relayed inline, want at least %d", n, tc.minInlined)
			}
			// The one backend is free again: another client gets it.
			if got := queryString(t, other, "select 'free'"); got != "free" {
				t.Fatal(got)
			}
		})
	}
	if got := queryString(t, d, "select string_agg(a::text, ',')::text from proxy_inline"); got != "1" {
		t.Fatalf("rows: %s", got)
	}
}

// A client that sends a statement and then, while it runs, many more
// without reading any reply gets every reply, in order.
func TestInline_PipelinedWithoutReading(t *testing.T) {
	tp := startProxy(t, 1)
	inline := countInline(tp)
	c := tp.connect(t, "")
	exec(t, c, "select 1")
	before := inline.Load()
	fe := c.PgConn().Frontend()
	fe.Send(&pgproto3.Query{String: "select pg_sleep(0.5)"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 5*time.Second, time.Millisecond, "first query relayed inline", func() bool { return inline.Load() > before })
	const n = 50
	for i := range n {
		fe.Send(&pgproto3.Query{String: fmt.Sprintf("select %d, repeat('x', 100) from generate_series(1, 500)", i)})
	}
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := -1; i < n; {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			if i >= 0 && string(m.Values[0]) != fmt.Sprint(i) {
				t.Fatalf("reply %s to query %d", m.Values[0], i)
			}
		case *pgproto3.ErrorResponse:
			t.Fatalf("query %d: %s", i, m.Message)
		case *pgproto3.ReadyForQuery:
			i++
		}
	}
	if got := queryString(t, c, "select 'after'"); got != "after" {
		t.Fatal(got)
	}
}

// A client that disconnects while its autocommit statement runs, relayed
// by its own session goroutine, without sending a CancelRequest (pgx
// sends one when a query it waits on fails; here it waits on none), has
// the statement cancelled by the watcher about proxy.WatchAfter later, and the
// backend goes back to the pool.
func TestInline_ClientGoneDuringStatement(t *testing.T) {
	tp := startProxy(t, 1)
	inline := countInline(tp)
	d := tp.direct(t)
	c := tp.connect(t, "")
	exec(t, c, "select 1")
	before := inline.Load()
	fe := c.PgConn().Frontend()
	fe.Send(&pgproto3.Query{String: "select pg_sleep(30)"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, d, "select pg_sleep(30)")
	if inline.Load() == before {
		t.Fatal("the statement's reply is not relayed by the session goroutine")
	}
	start := time.Now()
	_ = c.PgConn().Conn().Close()
	testdb.Eventually(t, proxy.WatchAfter+5*time.Second, 10*time.Millisecond, "cancel and release", func() bool { return tp.srv.PoolStats().Busy == 0 })
	if el := time.Since(start); el > proxy.WatchAfter+4*time.Second {
		t.Fatalf("statement ran %v after the client left", el)
	}
	if got := queryString(t, d, "select count(*)::text from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'"); got != "0" {
		t.Fatalf("still running: %s", got)
	}
	c2 := tp.connect(t, "")
	if got := queryString(t, c2, "select 'reused'"); got != "reused" {
		t.Fatal(got)
	}
}

// A queued client that fills its backlog (the client goroutine waits for
// the backend with a message in hand) is served by the Ready that hands
// it the backend, whose relay is the backend reader's: every reply
// arrives, in order.
func TestInline_BacklogFullWhileQueued(t *testing.T) {
	tp := startProxy(t, 1)
	holder := tp.connect(t, "")
	exec(t, holder, "begin")
	victim := tp.connect(t, "")
	fe := victim.PgConn().Frontend()
	const n = 6000 // ~110 KiB of queries, beyond the 64 KiB backlog
	for i := range n {
		fe.Send(&pgproto3.Query{String: fmt.Sprintf("select %d", i)})
	}
	flushed := make(chan error, 1)
	go func() { flushed <- fe.Flush() }()
	testdb.Eventually(t, 5*time.Second, time.Millisecond, "victim queued", func() bool { return tp.srv.PoolStats().Waiting == 1 })
	exec(t, holder, "commit")
	for i := 0; i < n; {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			if string(m.Values[0]) != fmt.Sprint(i) {
				t.Fatalf("reply %s to query %d", m.Values[0], i)
			}
		case *pgproto3.ErrorResponse:
			t.Fatalf("query %d: %s", i, m.Message)
		case *pgproto3.ReadyForQuery:
			i++
		}
	}
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, holder, "select 'free'"); got != "free" {
		t.Fatal(got)
	}
}

// A client that sends its next query while the previous one runs (libpq's
// pipeline mode, drivers that pipeline) gets both replies without delay.
// The second query is in the client socket before the first reply goes
// out, and nothing more will arrive to announce it: after writing the
// first reply the proxy must read, not wait for the socket to become
// readable (it would wait until the idle session's rest nudge, 2 s).
func TestInline_ClientSendsBeforeReply(t *testing.T) {
	tp := startProxy(t, 1)
	d := tp.direct(t)
	c := tp.connect(t, "")
	fe := c.PgConn().Frontend()
	for i := range 3 {
		slow := fmt.Sprintf("select pg_sleep(0.2), %d", i)
		fe.Send(&pgproto3.Query{String: slow})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		waitRunning(t, d, slow) // the proxy has read it
		fe.Send(&pgproto3.Query{String: fmt.Sprintf("select 'next %d'", i)})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := c.PgConn().Conn().SetReadDeadline(time.Now().Add(1500 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		var rows []string
		for ready := 0; ready < 2; {
			m, err := fe.Receive()
			if err != nil {
				t.Fatalf("round %d, after %d replies and rows %q: %v", i, ready, rows, err)
			}
			switch m := m.(type) {
			case *pgproto3.DataRow:
				rows = append(rows, string(m.Values[len(m.Values)-1]))
			case *pgproto3.ErrorResponse:
				t.Fatal(m.Message)
			case *pgproto3.ReadyForQuery:
				ready++
			}
		}
		if want := []string{fmt.Sprint(i), fmt.Sprintf("next %d", i)}; fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Fatalf("rows %q, want %q", rows, want)
		}
	}
	_ = c.PgConn().Conn().SetReadDeadline(time.Time{})
}
