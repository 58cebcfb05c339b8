package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func TestConn_DirtyReset(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	c := connect(t, e, "")
	exec(t, c, "CREATE TABLE IF NOT EXISTS plain (i INTEGER PRIMARY KEY, v TEXT)")
	exec(t, c, "INSERT INTO plain (v) VALUES ('a')")
	exec(t, c, "SELECT * FROM plain")
	exec(t, c, "PRAGMA foreign_keys")
	if c.Dirty() {
		t.Fatal("dirty after DDL, DML and a pragma read")
	}
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.Dirty() {
		t.Fatal("open transaction not dirty")
	}
	if err := c.Reset(ctx); err != nil || c.Dirty() {
		t.Fatalf("Reset of an open transaction: %v, dirty %v", err, c.Dirty())
	}
	for _, sql := range []string{"CREATE TEMP TABLE tmp_x (i)", "PRAGMA foreign_keys = 0", "CREATE TEMP VIEW tv AS SELECT 1"} {
		c := connect(t, e, "")
		exec(t, c, sql)
		if !c.Dirty() {
			t.Errorf("not dirty after %q", sql)
		}
		if err := c.Reset(ctx); !errors.Is(err, engine.ErrResetUnsupported) {
			t.Errorf("Reset after %q = %v, want ErrResetUnsupported", sql, err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Whatever physical connection the next Connect gets, it carries none
	// of that state.
	for range 4 {
		c := connect(t, e, "")
		res := exec(t, c, "SELECT count(*) FROM temp.sqlite_master")
		if n := res.Rows[0][0].Long; n != 0 {
			t.Fatalf("a new connection sees %d temporary objects", n)
		}
		res = exec(t, c, "PRAGMA foreign_keys")
		if v := res.Rows[0][0].Long; v != 1 {
			t.Fatalf("foreign_keys = %d on a new connection", v)
		}
	}
}
