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
