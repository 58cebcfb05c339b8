package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestConn_Dirty runs each statement on a fresh connection and checks
// Dirty, then that Reset leaves nothing of it behind.
func TestConn_Dirty(t *testing.T) {
	setup := connect(t)
	tbl := table(t, setup, "dirty")
	mustExec(t, setup, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	plain := table(t, setup, "dirty_plain")
	mustExec(t, setup, "CREATE TABLE "+plain+" (v INT)")
	proc := tbl + "_p"
	mustExec(t, setup, "CREATE PROCEDURE "+proc+"() SET @from_proc = 1")
	t.Cleanup(func() { _, _ = setup.Exec(context.Background(), "DROP PROCEDURE IF EXISTS "+proc, nil, 0) })
	fn := tbl + "_f"
	r, err := setup.cl.Query("CREATE FUNCTION " + fn + "() RETURNS INT BEGIN SET @from_func = 1; RETURN 1; END")
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	t.Cleanup(func() { _, _ = setup.Exec(context.Background(), "DROP FUNCTION IF EXISTS "+fn, nil, 0) })
	cases := []struct {
		sql   string
		dirty bool
	}{
		{"SELECT 1", false},
		{"SELECT * FROM " + tbl + " WHERE v > 0", false},
		{"SELECT @@version", false},
		{"UPDATE " + tbl + " SET v = 1 WHERE id = 0", false},
		{"INSERT INTO " + plain + " (v) VALUES (1)", false},
		{"DELETE FROM " + plain + " WHERE v = 1", false},
		{"INSERT INTO " + tbl + " (id, v) VALUES (1000, 1)", true}, // the OK carries an insert id
		{"CREATE TABLE IF NOT EXISTS " + tbl + " (i INT)", true},   // warning: table exists
		{"SHOW TABLES", false},
		{"INSERT INTO " + tbl + " (v) VALUES (1)", true}, // LAST_INSERT_ID
		{"SET @v = 1", true},
		{"SELECT @w := 1", true},
		{"SELECT 1 INTO @x", true},
		{"SET NAMES gbk", true},
		{"SET sql_mode = 'ANSI'", true},
		{"SET time_zone = '+01:00'", true},
		{"SET autocommit = 0", true},
		{"USE mysql", true},
		{"CREATE TEMPORARY TABLE tmp_dirty (i INT)", true},
		{"PREPARE s FROM 'SELECT 1'", true},
		{"SELECT GET_LOCK('sqlgate_dirty', 0)", true},
		{"SELECT LAST_INSERT_ID(5)", true},
		{"START TRANSACTION", true},
		{"LOCK TABLES " + tbl + " READ", true},
		{"CALL " + proc + "()", true},
		{"SELECT " + fn + "()", true}, // SET inside a function: reported by session tracking
		{"/*!SET @y = 1*/", true},
		{"DROP DATABASE IF EXISTS sqlgate_no_such_db", true},
	}
	for _, tc := range cases {
		t.Run(tc.sql, func(t *testing.T) {
			c := connect(t)
			if c.Dirty() {
				t.Fatal("fresh connection is dirty")
			}
			mustExec(t, c, tc.sql)
			if c.Dirty() != tc.dirty {
				t.Fatalf("Dirty() = %v, want %v", c.Dirty(), tc.dirty)
			}
			if err := c.Reset(t.Context()); err != nil {
				t.Fatalf("Reset: %v", err)
			}
			if c.Dirty() {
				t.Fatal("dirty after Reset")
			}
			assertFresh(t, c)
		})
	}
}

// assertFresh checks a session holds nothing but its login database.
func assertFresh(t *testing.T, c *Conn) {
	t.Helper()
	res := mustExec(t, c, "SELECT @v, @w, @x, @y, @from_proc, @from_func, DATABASE(), @@character_set_client, @@collation_connection, "+
		"IS_USED_LOCK('sqlgate_dirty') IS NULL, @@in_transaction, @@autocommit, @@session.sql_mode = @@global.sql_mode, "+
		"@@session.time_zone = @@global.time_zone, LAST_INSERT_ID(), @@session_track_state_change")
	got := make([]string, len(res.Rows[0]))
	for i, v := range res.Rows[0] {
		switch v.Kind {
		case engine.KindNull:
			got[i] = "NULL"
		case engine.KindString:
			got[i] = v.String
		case engine.KindLong:
			got[i] = strconv.FormatInt(v.Long, 10)
		default:
			got[i] = fmt.Sprint(v)
		}
	}
	want := "NULL|NULL|NULL|NULL|NULL|NULL|sqlgate_test|utf8mb4|utf8mb4_general_ci|1|0|1|1|1|0|1"
	if g := strings.Join(got, "|"); g != want {
		t.Fatalf("session after reset:\n got %s\nwant %s", g, want)
	}
	if _, err := c.Exec(t.Context(), "SELECT * FROM tmp_dirty", nil, 0); err == nil {
		t.Fatal("temporary table survived")
	}
	if _, err := c.Exec(t.Context(), "EXECUTE s", nil, 0); err == nil {
		t.Fatal("prepared statement survived")
	}
}

func TestConn_DirtyTransaction(t *testing.T) {
	c := connect(t)
	if err := c.Begin(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !c.Dirty() {
		t.Fatal("open transaction not dirty")
	}
	mustExec(t, c, "SELECT 1")
	if err := c.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c.Dirty() {
		t.Fatal("dirty after COMMIT of a clean transaction")
	}
	// Reset rolls an open transaction back.
	tbl := table(t, c, "resettx")
	mustExec(t, c, "CREATE TABLE "+tbl+" (i INT)")
	if err := c.Begin(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "INSERT INTO "+tbl+" VALUES (1)")
	if err := c.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res := mustExec(t, c, "SELECT COUNT(*) FROM "+tbl); res.Rows[0][0].Long != 0 {
		t.Fatalf("insert survived the reset: %v", res.Rows)
	}
}

func TestConn_ResetDatabase(t *testing.T) {
	cfg := testDSN(t)
	e := New(Config{Address: cfg.Addr})
	t.Run("no login database", func(t *testing.T) {
		ec, err := e.Connect(t.Context(), engine.Credentials{User: cfg.User, Password: cfg.Passwd})
		if err != nil {
			t.Fatal(err)
		}
		c := ec.(*Conn)
		defer c.Close()
		mustExec(t, c, "SET @v = 1")
		if err := c.Reset(t.Context()); err != nil {
			t.Fatalf("Reset without a database change: %v", err)
		}
		mustExec(t, c, "USE "+cfg.DBName)
		mustExec(t, c, "SET @v = 2")
		if err := c.Reset(t.Context()); err != nil {
			t.Fatalf("Reset after USE without a login database: %v", err)
		}
		if c.Dirty() {
			t.Fatal("dirty after reset")
		}
		res := mustExec(t, c, "SELECT DATABASE(), @v, @@character_set_client, @@session_track_state_change")
		if r := res.Rows[0]; r[0].Kind != engine.KindNull || r[1].Kind != engine.KindNull || r[2].String != "utf8mb4" || r[3].Long != 1 {
			t.Fatalf("session after reset = %+v", r)
		}
	})
	t.Run("login database dropped", func(t *testing.T) {
		admin := connect(t)
		db := "sqlgate_reset_" + strconv.FormatInt(admin.ID(), 10)
		_, err := admin.Exec(t.Context(), "CREATE DATABASE "+db, nil, 0)
		testdb.NeedTool(t, err == nil, "the CREATE DATABASE privilege for the test user (e2e/services.sh grants it)")
		t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db, nil, 0) })
		ec, err := e.Connect(t.Context(), engine.Credentials{User: cfg.User, Password: cfg.Passwd, Database: db})
		if err != nil {
			t.Fatal(err)
		}
		c := ec.(*Conn)
		defer c.Close()
		mustExec(t, c, "DROP DATABASE "+db)
		if !c.Dirty() {
			t.Fatal("DROP DATABASE of the current database not dirty")
		}
		if err := c.Reset(t.Context()); err == nil {
			t.Fatal("Reset succeeded without its login database")
		}
		mustExec(t, admin, "CREATE DATABASE "+db)
		ec2, err := e.Connect(t.Context(), engine.Credentials{User: cfg.User, Password: cfg.Passwd, Database: db})
		if err != nil {
			t.Fatal(err)
		}
		defer ec2.Close()
		mustExec(t, ec2, "CREATE TABLE t (i INT)")
	})
}

// TestConn_ResetLastInsertID checks the lazy reset of a generated
// LAST_INSERT_ID: the inserting caller still reads its id, Reset sends
// nothing, and whatever the next caller sends first (a query, a
// statement with parameters, a transaction) sees a new session's 0.
// (Reading LAST_INSERT_ID() itself counts as state for the scan, so the
// caller that does gets a full reset.)
func TestConn_ResetLastInsertID(t *testing.T) {
	setup := connect(t)
	tbl := table(t, setup, "lastid")
	mustExec(t, setup, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	next := map[string]func(c *Conn) string{
		"query": func(c *Conn) string { return scalar(t, mustExec(t, c, "SELECT LAST_INSERT_ID()")) },
		"params": func(c *Conn) string {
			res, err := c.Exec(t.Context(), "SELECT LAST_INSERT_ID() + :n", []engine.Param{{Name: "n", Value: engine.Long(0)}}, 0)
			if err != nil {
				t.Fatal(err)
			}
			return scalar(t, res)
		},
		"transaction": func(c *Conn) string {
			if err := c.Begin(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Rollback(t.Context()) }()
			return scalar(t, mustExec(t, c, "SELECT LAST_INSERT_ID()"))
		},
	}
	c := connect(t)
	mustExec(t, c, "INSERT INTO "+tbl+" (v) VALUES (1)")
	if got := scalar(t, mustExec(t, c, "SELECT LAST_INSERT_ID()")); got == "0" {
		t.Fatal("the inserting caller lost its LAST_INSERT_ID")
	}
	for name, first := range next {
		t.Run(name, func(t *testing.T) {
			c := connect(t)
			mustExec(t, c, "INSERT INTO "+tbl+" (v) VALUES (1)")
			if !c.Dirty() {
				t.Fatal("a generated LAST_INSERT_ID is not dirty")
			}
			if err := c.Reset(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !c.clearID || c.Dirty() {
				t.Fatalf("Reset was not the lazy clear (clearID %v, Dirty %v)", c.clearID, c.Dirty())
			}
			if got := first(c); got != "0" {
				t.Fatalf("next caller's LAST_INSERT_ID() = %s, want 0", got)
			}
			if c.Broken() {
				t.Fatal("broken after the clear")
			}
			assertFresh(t, c)
		})
	}
}

func scalar(t *testing.T, res *engine.Result) string {
	t.Helper()
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		t.Fatalf("want one value, got %d rows", len(res.Rows))
	}
	v := res.Rows[0][0]
	switch v.Kind {
	case engine.KindLong:
		return strconv.FormatInt(v.Long, 10)
	case engine.KindString:
		return v.String
	}
	return fmt.Sprint(v)
}

// TestConn_ExecLastClearsID checks ExecLast: an AUTO_INCREMENT insert run
// as the session's last statement returns its generated id and leaves
// the session clean (the clear went behind it), so the next caller reads
// LAST_INSERT_ID() 0 with no reset; a failed insert leaves the connection
// usable; inside a transaction nothing is cleared (the caller may still
// read its id).
func TestConn_ExecLastClearsID(t *testing.T) {
	setup := connect(t)
	tbl := table(t, setup, "execlast")
	mustExec(t, setup, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	ins := "INSERT INTO " + tbl + " (v) VALUES (:v)"
	v := []engine.Param{{Name: "v", Value: engine.Long(3)}}
	c := connect(t)
	for i := range 3 {
		res, err := c.ExecLast(t.Context(), ins, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Generated) != 1 || res.Generated[0].Long == 0 || res.RowsAffected != 1 {
			t.Fatalf("insert %d: generated %v, %d rows", i, res.Generated, res.RowsAffected)
		}
		if c.Dirty() {
			t.Fatalf("insert %d: dirty after ExecLast", i)
		}
	}
	if got := scalar(t, mustExec(t, c, "SELECT LAST_INSERT_ID()")); got != "0" {
		t.Fatalf("next caller's LAST_INSERT_ID() = %s, want 0", got)
	}
	assertFresh(t, c)

	if _, err := c.ExecLast(t.Context(), "INSERT INTO "+tbl+" (id, v) VALUES (1, 1)", nil, 0); err == nil {
		t.Fatal("duplicate key inserted")
	}
	if c.Broken() {
		t.Fatal("a failed insert broke the connection")
	}
	if got := scalar(t, mustExec(t, c, "SELECT COUNT(*) FROM "+tbl)); got != "3" {
		t.Fatalf("count = %s after the failed insert, want 3", got)
	}

	if err := c.Begin(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := c.ExecLast(t.Context(), ins, v, 0)
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(res.Generated[0].Long, 10)
	if got := scalar(t, mustExec(t, c, "SELECT LAST_INSERT_ID()")); got != id {
		t.Fatalf("in a transaction LAST_INSERT_ID() = %s, want its own %s", got, id)
	}
	if err := c.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
}
