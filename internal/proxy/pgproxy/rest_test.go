package pgproxy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// An idle client rests (its read buffer goes back to the pool) and then
// carries on: a query split across the rest, a plain one, a transaction
// and a prepared statement made before it all work.
func TestServer_idleClientRests(t *testing.T) {
	tp := startProxy(t, 1)
	c := tp.connect(t, "")
	ctx := context.Background()
	if _, err := c.Exec(ctx, "SET application_name = 'rester'"); err != nil {
		t.Fatal(err)
	}
	sd, err := c.Prepare(ctx, "q", "SELECT $1::int + 1")
	if err != nil {
		t.Fatal(err)
	}
	var sess *session
	tp.srv.mu.Lock()
	for _, s := range tp.srv.sessions {
		sess = s
	}
	tp.srv.mu.Unlock()
	if sess == nil {
		t.Fatal("no session registered")
	}
	testdb.Eventually(t, 20*time.Second, 50*time.Millisecond, "the idle session rests", sess.ps.Resting)
	var app string
	if err := c.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&app); err != nil || app != "rester" {
		t.Fatalf("after rest: %q, %v", app, err)
	}
	var n int
	if err := c.QueryRow(ctx, sd.Name, 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("prepared after rest: %d, %v", n, err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 3*readerSize) // longer than the read buffer
	var got string
	if err := tx.QueryRow(ctx, "SELECT $1::text", big).Scan(&got); err != nil || got != big {
		t.Fatalf("large frame after rest: %d bytes, %v", len(got), err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
