package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// prepared returns how many statements the session has prepared, read
// without going through the cache.
func prepared(t *testing.T, c *Conn) int {
	t.Helper()
	tag, err := c.pg.Exec(context.Background(), "SELECT count(*) FROM pg_prepared_statements").ReadAll()
	if err != nil || len(tag) != 1 || len(tag[0].Rows) != 1 {
		t.Fatalf("count prepared statements: %v", err)
	}
	n, _ := strconv.Atoi(string(tag[0].Rows[0][0]))
	return n
}

// TestStmtCache_PreparesOnSecondUse: a statement is prepared the second
// time it runs (per parameter types) and gives the same result every time.
func TestStmtCache_PreparesOnSecondUse(t *testing.T) {
	c := connect(t)
	for i := range 3 {
		res := exec(t, c, "SELECT 40 + 2 AS answer")
		if !sameValue(res.Rows[0][0], engine.Long(42)) || res.Columns[0].Label != "answer" {
			t.Fatalf("run %d: %+v", i, res)
		}
		if want := min(i, 1); prepared(t, c) != want {
			t.Fatalf("after run %d: %d prepared statements, want %d", i, prepared(t, c), want)
		}
	}
	for i := range 2 {
		exec(t, c, "SELECT :v AS v", engine.Param{Name: "v", Value: engine.Long(int64(i))})
		exec(t, c, "SELECT :v AS v", engine.Param{Name: "v", Value: engine.String("x")})
	}
	if n := prepared(t, c); n != 3 {
		t.Fatalf("%d prepared statements, want 3 (one per parameter type)", n)
	}
}

// TestStmtCache_SchemaChange: when a cached statement's table changes
// shape, it is prepared again and retried outside a transaction; inside
// one the error is returned.
func TestStmtCache_SchemaChange(t *testing.T) {
	c, other := connect(t), connect(t)
	table := "stmtcache_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	exec(t, other, "CREATE TABLE "+table+" (a int)")
	t.Cleanup(func() { exec(t, other, "DROP TABLE IF EXISTS "+table) })
	exec(t, other, "INSERT INTO "+table+" VALUES (1)")
	q := "SELECT * FROM " + table
	exec(t, c, q)
	exec(t, c, q) // now prepared
	exec(t, other, "ALTER TABLE "+table+" ADD COLUMN b text DEFAULT 'x'")
	res := exec(t, c, q)
	if len(res.Columns) != 2 || !sameValue(res.Rows[0][1], engine.String("x")) {
		t.Fatalf("after ALTER outside a transaction: %+v", res)
	}

	// In a transaction that has not read the table yet (reading it would
	// lock out the ALTER).
	ctx := context.Background()
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "SELECT 1")
	exec(t, other, "ALTER TABLE "+table+" ADD COLUMN c int")
	_, err := c.Exec(ctx, q, nil, 0)
	if err == nil || !strings.Contains(err.Error(), "cached plan must not change result type") {
		t.Fatalf("in a transaction: err %v, want the schema-change error", err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if res := exec(t, c, q); len(res.Columns) != 3 {
		t.Fatalf("after the transaction: %d columns, want 3", len(res.Columns))
	}
}

// TestStmtCache_Invalidation: session-changing statements empty the cache
// (and their server-side statements go before the next Prepare); a reset's
// DISCARD ALL empties it too.
func TestStmtCache_Invalidation(t *testing.T) {
	c := connect(t)
	ctx := context.Background()
	exec(t, c, "SELECT 1")
	exec(t, c, "SELECT 1")
	exec(t, c, "SELECT 2")
	exec(t, c, "SELECT 2")
	if n := prepared(t, c); n != 2 {
		t.Fatalf("%d prepared statements, want 2", n)
	}
	exec(t, c, "DEALLOCATE ALL") // the user's own: our names are gone
	exec(t, c, "SELECT 1")
	exec(t, c, "SELECT 1")
	if res := exec(t, c, "SELECT 1"); !sameValue(res.Rows[0][0], engine.Long(1)) {
		t.Fatalf("after DEALLOCATE ALL: %+v", res)
	}
	exec(t, c, "SET application_name = 'stmtcache'")
	exec(t, c, "SELECT 2")
	exec(t, c, "SELECT 2")
	if n := prepared(t, c); n != 1 {
		t.Fatalf("after SET: %d prepared statements, want 1 (stale ones deallocated)", n)
	}
	exec(t, c, "PREPARE mine AS SELECT 7") // the user's own survives ours going
	exec(t, c, "SELECT 3")
	exec(t, c, "SELECT 3")
	if res := exec(t, c, "EXECUTE mine"); !sameValue(res.Rows[0][0], engine.Long(7)) {
		t.Fatalf("EXECUTE mine: %+v", res)
	}
	if n := prepared(t, c); n != 2 {
		t.Fatalf("after PREPARE: %d prepared statements, want 2 (mine and SELECT 3)", n)
	}
	if !c.Dirty() {
		t.Fatal("SET left the session clean")
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if n := prepared(t, c); n != 0 {
		t.Fatalf("after Reset: %d prepared statements", n)
	}
	for range 3 {
		if res := exec(t, c, "SELECT 2"); !sameValue(res.Rows[0][0], engine.Long(2)) {
			t.Fatalf("after Reset: %+v", res)
		}
	}
}

func BenchmarkExecSelect1(b *testing.B) {
	e, creds := testServer(b)
	cn, err := e.Connect(context.Background(), creds)
	if err != nil {
		b.Fatal(err)
	}
	defer cn.Close()
	c := cn.(*Conn)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Exec(ctx, "SELECT 1", nil, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// rows100SQL is the benchmark's 100-row × 10-column result of mixed types.
const rows100SQL = `SELECT g AS id, g*7 AS n1, g::bigint*1000003 AS n2, 'name-'||g AS s1, md5(g::text) AS s2,
	g/3.0::float8 AS f1, (g*1.25)::numeric(10,2) AS d1, timestamp '2024-01-02 03:04:05' + g * interval '1 minute' AS t1,
	g%2=0 AS b1, repeat('x', g%40) AS s3 FROM generate_series(1,100) g`

func BenchmarkExecRows100(b *testing.B) {
	e, creds := testServer(b)
	cn, err := e.Connect(context.Background(), creds)
	if err != nil {
		b.Fatal(err)
	}
	defer cn.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := cn.Exec(ctx, rows100SQL, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) != 100 || len(res.Rows[99]) != 10 {
			b.Fatalf("%d rows", len(res.Rows))
		}
	}
}
