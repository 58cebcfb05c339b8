package pgproxy

import (
	"context"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/fairshare"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestShare_BackToBack: a login user bound to one backend connection, with
// no call allowed to wait for it (max_waiters_per_principal 0), runs
// statements back to back. The connection is free once a transaction's
// last reply is read, so the next statement, sent the moment the client
// has that reply, must never be refused for a connection the proxy is
// still putting back.
func TestShare_BackToBack(t *testing.T) {
	// The relay pauses after each reply, so the client's next statement
	// always arrives while the connection is still on its way back.
	testHookAfterReply = func() { testdb.Elapse(2 * time.Millisecond) }
	t.Cleanup(func() { testHookAfterReply = nil })
	tp, cl := newTestProxy(t, 4)
	tp.shares = fairshare.New(fairshare.Limits{Connections: 1, Waiters: 0})
	tp.serve(t, cl, proxytest.Tokens{})
	c := tp.connect(t, "default_query_exec_mode=simple_protocol")
	ctx := context.Background()
	for i := range 100 {
		// A transaction's end is relayed by the backend's reader, on
		// another goroutine than the one that reads the client.
		for _, sql := range []string{"begin", "select 1", "commit", "select 1"} {
			if _, err := c.Exec(ctx, sql); err != nil {
				t.Fatalf("round %d, %s: %v", i, sql, err)
			}
		}
	}
	// The bound holds: while one client keeps a transaction open, the
	// user's other client is refused at once.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	other := tp.connect(t, "default_query_exec_mode=simple_protocol")
	if _, err := other.Exec(ctx, "select 1"); err == nil {
		t.Fatal("a second connection of a user bound to one: got no error")
	}
}
