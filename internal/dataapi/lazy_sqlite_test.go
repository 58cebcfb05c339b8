package dataapi

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/sqlite"
)

func sqliteConn(tb testing.TB) engine.Conn {
	tb.Helper()
	e, err := sqlite.New(sqlite.Config{Path: filepath.Join(tb.TempDir(), "main.db")})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := e.Connect(context.Background(), engine.Credentials{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close(); e.Close() })
	return c
}

// sqliteTypesDDL is a table of every declared type class the SQLite
// engine maps, filled with values that exercise each mapping (and a row
// of NULLs).
const sqliteTypesDDL = `CREATE TABLE t (i INTEGER, b BOOLEAN, d DECIMAL(10,2), n NUMERIC, r REAL, f DOUBLE PRECISION,
	tx TEXT, vc VARCHAR(20), bl BLOB, dt DATE, dtm DATETIME, ts TIMESTAMP, tm TIME, x)`

var sqliteTypesRows = []string{
	`INSERT INTO t VALUES (42, 1, 12.5, 7, 1.5, -0.1, 'it''s "q" \ é', 'v', x'00ff', '2021-03-04', '2019-11-12 22:00:11.5',
		'2019-11-12 22:00:11.123456', '12:34:56', 3)`,
	`INSERT INTO t VALUES (-9223372036854775808, 0, 3, 1e300, 1e-320, 1.7976931348623157e308, '', '', x'', '2021-03-04 05:06:07',
		'1000-01-01', '9999-12-31 23:59:59.001', 'noon', 'x')`,
	`INSERT INTO t VALUES (9223372036854775807, 2.5, 'abc', -0.0, 0, 123456789012345680, 'ünï', 'x', 'text in blob', 20210304,
		1577836800, 'not a date', 1.5, x'01')`,
	`INSERT INTO t VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
}

// TestLazy_SameResponse_SQLite: the SQLite engine's lazy results encode
// exactly as its eager ones, and hit the size limit at the same sizes.
func TestLazy_SameResponse_SQLite(t *testing.T) {
	c := sqliteConn(t)
	ctx := context.Background()
	for _, sql := range append([]string{sqliteTypesDDL}, sqliteTypesRows...) {
		if _, err := c.Exec(ctx, sql, nil, 0); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, sql := range []string{"SELECT * FROM t", "SELECT 1", "SELECT NULL, 1, 'a', 2.5, x'00'",
		"SELECT max(dt), min(i), i || '', upper(tx), coalesce(x, dtm) FROM t", "SELECT * FROM t WHERE 0",
		"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g+1 FROM s WHERE g < 300) SELECT g, g/3.0, 'n'||g, g%2=0 FROM s"} {
		t.Run(sql[:min(len(sql), 30)], func(t *testing.T) { sameBothWays(t, c, sql) })
	}
	for limit := 50; limit <= 3000; limit += 7 {
		_, eerr := c.Exec(ctx, "SELECT * FROM t", nil, limit)
		_, lerr := c.Exec(engine.WithLazyDecode(ctx), "SELECT * FROM t", nil, limit)
		if errors.Is(eerr, engine.ErrResultTooLarge) != errors.Is(lerr, engine.ErrResultTooLarge) || (eerr == nil) != (lerr == nil) {
			t.Fatalf("limit %d: eager %v, lazy %v", limit, eerr, lerr)
		}
	}
}

// TestLazy_Release: a released result's memory serves the next result
// (engine.Releaser) without changing what either encodes.
func TestLazy_Release(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		conn func(testing.TB) engine.Conn
		a, b string
	}{
		{"pg", pgConn, rows100SQL, "SELECT g, repeat('y', g) FROM generate_series(1, 50) g"},
		{"mysql", mysqlConn, rows100MySQL, "SELECT seq, repeat('y', seq) FROM seq_1_to_50"},
		{"sqlite", sqliteConn, rows100SQLite, "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g+1 FROM s WHERE g < 50) SELECT g, printf('%.*c', g, 'y') FROM s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conn(t)
			for i := range 6 { // past the statement cache's second use (MariaDB's binary protocol)
				sql := tc.a
				if i%2 == 1 {
					sql = tc.b
				}
				eager, err := c.Exec(ctx, sql, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				want, err := encodeExecute(eager, true, options{}, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				want = append([]byte(nil), want...)
				eager.Release() // an eager result: nothing to hand back
				if eager.Rows == nil {
					t.Fatal("Release dropped an eager result's rows")
				}
				lazy, err := c.Exec(engine.WithLazyDecode(ctx), sql, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				got, err := encodeExecute(lazy, true, options{}, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				lazy.Release()
				lazy.Release()
				if lazy.Cells != nil {
					t.Fatal("Release kept the Cells")
				}
				if string(got) != string(want) {
					t.Fatalf("statement %d: lazy and eager differ after a release:\n%.300s\n%.300s", i, got, want)
				}
			}
		})
	}
}
