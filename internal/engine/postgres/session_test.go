package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func TestConn_DirtyReset(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := connect(t)
	run := func(sql string) *engine.Result {
		t.Helper()
		res, err := c.Exec(ctx, sql, nil, 0)
		if err != nil {
			t.Fatalf("Exec(%q): %v", sql, err)
		}
		return res
	}
	one := func(sql string) string {
		t.Helper()
		res := run(sql)
		v := res.Rows[0][0]
		if v.Kind == engine.KindNull {
			return "NULL"
		}
		return v.String
	}
	if c.Dirty() {
		t.Fatal("a new connection is dirty")
	}
	for _, sql := range []string{"SELECT 1", "SELECT count(*) FROM pg_class WHERE relname = lower('X')", "SHOW TimeZone"} {
		run(sql)
		if c.Dirty() {
			t.Fatalf("dirty after %q", sql)
		}
	}
	base := map[string]string{}
	for _, k := range []string{"TimeZone", "search_path", "statement_timeout", "DateStyle", "role"} {
		base[k] = one("SELECT current_setting('" + k + "')")
	}
	cases := []struct {
		sql   string
		check string // a query whose answer must be back to normal after Reset
	}{
		{"SET TimeZone = 'Asia/Tokyo'", "SELECT current_setting('TimeZone')"},
		{"SET search_path TO pg_catalog", "SELECT current_setting('search_path')"},
		{"SET statement_timeout = 1", "SELECT current_setting('statement_timeout')"},
		{"SELECT set_config('DateStyle', 'German', false)", "SELECT current_setting('DateStyle')"},
		{"DO $$BEGIN PERFORM set_config('TimeZone', 'Europe/Paris', false); END$$", "SELECT current_setting('TimeZone')"},
		{"SELECT 'a' AS s INTO TEMP sess_t", "SELECT count(*)::text FROM pg_class WHERE relname = 'sess_t' AND relpersistence = 't'"},
		{"PREPARE sess_q AS SELECT 1", "SELECT count(*)::text FROM pg_prepared_statements"},
		{"LISTEN sess_ch", "SELECT count(*)::text FROM pg_listening_channels()"},
		{"SELECT pg_advisory_lock(424242)", "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"},
		{"DECLARE sess_c CURSOR WITH HOLD FOR SELECT 1", "SELECT count(*)::text FROM pg_cursors"},
	}
	for _, tc := range cases {
		want := one(tc.check)
		run(tc.sql)
		if !c.Dirty() {
			t.Errorf("not dirty after %q", tc.sql)
		}
		if err := c.Reset(ctx); err != nil {
			t.Fatalf("Reset after %q: %v", tc.sql, err)
		}
		if c.Dirty() {
			t.Errorf("dirty after Reset (%q)", tc.sql)
		}
		if got := one(tc.check); got != want {
			t.Errorf("after %q and Reset: %s = %q, want %q", tc.sql, tc.check, got, want)
		}
	}
	for k, v := range base {
		if got := one("SELECT current_setting('" + k + "')"); got != v {
			t.Errorf("%s = %q after the resets, want %q", k, got, v)
		}
	}
}

func TestConn_ResetSequencesAndTx(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := connect(t)
	tbl := "sess_seq_" + randSuffix()
	if _, err := c.Exec(ctx, "CREATE TABLE "+tbl+" (id serial PRIMARY KEY, v int)", nil, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.Exec(context.Background(), "DROP TABLE IF EXISTS "+tbl, nil, 0) })
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO "+tbl+" (v) VALUES (1)", nil, 0); err != nil {
		t.Fatal(err)
	}
	if !c.Dirty() {
		t.Fatal("INSERT into a serial table left the connection clean (lastval is set)")
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, "SELECT lastval()", nil, 0)
	var dbe *engine.DBError
	if !errors.As(err, &dbe) || dbe.SQLState != "55000" {
		t.Fatalf("lastval() after Reset: %v, want SQLSTATE 55000 (not yet defined in this session)", err)
	}
	// A discard Reset leaves pending costs nothing for statements that
	// cannot read sequence state, and goes first for one that can.
	for range 2 {
		if _, err := c.Exec(ctx, "INSERT INTO "+tbl+" (v) VALUES (3)", nil, 0); err != nil {
			t.Fatal(err)
		}
		if err := c.Reset(ctx); err != nil || c.Dirty() || !c.discardSeq {
			t.Fatalf("Reset after an INSERT: %v, dirty %v, pending %v", err, c.Dirty(), c.discardSeq)
		}
	}
	if _, err := c.Exec(ctx, "SELECT count(*) FROM "+tbl, nil, 0); err != nil || !c.discardSeq {
		t.Fatalf("a plain SELECT: %v, pending %v", err, c.discardSeq)
	}
	if _, err := c.Exec(ctx, "SELECT currval('"+tbl+"_id_seq')", nil, 0); !errors.As(err, &dbe) || dbe.SQLState != "55000" || c.discardSeq {
		t.Fatalf("currval() after a pending discard: %v, pending %v", err, c.discardSeq)
	}
	// The discard Reset leaves pending goes before the next statement, even
	// one that cannot run in a transaction block, and before BEGIN.
	for _, next := range []string{"VACUUM " + tbl + " /* currval */", "DO $$BEGIN PERFORM 1; END$$"} {
		if _, err := c.Exec(ctx, "INSERT INTO "+tbl+" (v) VALUES (1)", nil, 0); err != nil {
			t.Fatal(err)
		}
		if err := c.Reset(ctx); err != nil || c.Dirty() {
			t.Fatalf("Reset: %v, dirty %v", err, c.Dirty())
		}
		if _, err := c.Exec(ctx, next, nil, 0); err != nil {
			t.Fatalf("%s after a pending discard: %v", next, err)
		}
		if _, err := c.Exec(ctx, "SELECT lastval()", nil, 0); !errors.As(err, &dbe) || dbe.SQLState != "55000" {
			t.Fatalf("lastval() after %s: %v", next, err)
		}
	}
	if _, err := c.Exec(ctx, "INSERT INTO "+tbl+" (v) VALUES (1)", nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT lastval()", nil, 0); !errors.As(err, &dbe) || dbe.SQLState != "55000" {
		t.Fatalf("lastval() in a transaction begun after a pending discard: %v", err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// An open transaction (from BEGIN) is rolled back by Reset.
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO "+tbl+" (v) VALUES (2)", nil, 0); err != nil {
		t.Fatal(err)
	}
	if !c.Dirty() {
		t.Fatal("open transaction not dirty")
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := c.Exec(ctx, "SELECT count(*) FROM "+tbl+" WHERE v = 2", nil, 0)
	if err != nil || res.Rows[0][0].Long != 0 {
		t.Fatalf("row of the rolled-back transaction: %v %v", res, err)
	}
	if _, err := c.Exec(ctx, "LOAD 'plpgsql'", nil, 0); err == nil {
		if err := c.Reset(ctx); !errors.Is(err, engine.ErrResetUnsupported) {
			t.Fatalf("Reset after LOAD = %v, want ErrResetUnsupported", err)
		}
	}
}

func randSuffix() string {
	return time.Now().Format("150405") + "_" + time.Now().Format("000000000")[3:]
}
