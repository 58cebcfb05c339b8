package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func newEngine(t *testing.T) *Engine {
	t.Helper()
	dir := t.TempDir()
	e, err := New(Config{Path: filepath.Join(dir, "main.db"), DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func connect(t *testing.T, e *Engine, db string) *Conn {
	t.Helper()
	c, err := e.Connect(context.Background(), engine.Credentials{User: "ignored", Password: "ignored", Database: db})
	if err != nil {
		t.Fatalf("Connect(%q): %v", db, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*Conn)
}

func exec(t *testing.T, c *Conn, sql string, params ...engine.Param) *engine.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Exec(ctx, sql, params, 0)
	if err != nil {
		t.Fatalf("Exec(%q): %v", sql, err)
	}
	return res
}

func TestConn_Exec_pets(t *testing.T) {
	c := connect(t, newEngine(t), "")
	res := exec(t, c, `CREATE TABLE Pets(id varchar(200), type varchar(200), price float)`)
	if res.HasResultSet || res.RowsAffected != 0 || res.Generated == nil || len(res.Generated) != 0 {
		t.Fatalf("DDL result = %+v", res)
	}
	res = exec(t, c, `INSERT INTO Pets VALUES ('111','dog',123)`)
	// No INTEGER PRIMARY KEY: no generated key, as seed 000 shows on MySQL.
	if res.RowsAffected != 1 || res.Generated == nil || len(res.Generated) != 0 {
		t.Fatalf("INSERT result = %+v", res)
	}
	res = exec(t, c, `SELECT * FROM Pets`)
	want := [][]engine.Value{{engine.String("111"), engine.String("dog"), engine.Double(123)}}
	if !reflect.DeepEqual(res.Rows, want) || res.RowsAffected != 0 {
		t.Fatalf("rows = %#v, want %#v", res.Rows, want)
	}
	wantCols := []struct {
		name, typeName string
		jdbc, prec     int32
	}{{"id", "VARCHAR", 12, 200}, {"type", "VARCHAR", 12, 200}, {"price", "FLOAT", 6, 0}}
	for i, w := range wantCols {
		if got := res.Columns[i]; got.Name != w.name || got.Label != w.name || got.TypeName != w.typeName || got.Type != w.jdbc || got.Precision != w.prec {
			t.Errorf("column %d = %+v, want %+v", i, got, w)
		}
	}
	res = exec(t, c, `UPDATE Pets SET price = 124`)
	if res.RowsAffected != 1 || len(res.Generated) != 0 {
		t.Errorf("UPDATE result = %+v", res)
	}
	res = exec(t, c, `CREATE INDEX pets_type ON Pets(type)`)
	if res.RowsAffected != 0 {
		t.Errorf("DDL after UPDATE: RowsAffected = %d", res.RowsAffected)
	}
}

func TestConn_Exec_types(t *testing.T) {
	c := connect(t, newEngine(t), "main")
	exec(t, c, `CREATE TABLE t(i INTEGER, bi BIGINT, r REAL, d DOUBLE, s TEXT, vc VARCHAR(10), b BLOB, n NUMERIC, dec DECIMAL(10,2),
		flag BOOLEAN, day DATE, at DATETIME, ts TIMESTAMP, nul INTEGER, untyped)`)
	exec(t, c, `INSERT INTO t VALUES (1, 9223372036854775807, 1.5, 0.1, 'x', 'abc', x'00ff', 1.5, '12.30',
		1, '2021-03-10', '2021-03-10 22:41:04', '2021-03-10 22:41:04.1', NULL, 'free')`)
	res := exec(t, c, `SELECT *, 1+1 AS two, 0.5 AS half, 'lit' AS lit, x'01' AS bl, NULL AS nada FROM t`)
	S := engine.String
	want := []struct {
		v        engine.Value
		typeName string
		jdbc     int32
		decimal  bool
	}{
		{engine.Long(1), "INTEGER", 4, false},
		{engine.Long(9223372036854775807), "BIGINT", -5, false},
		{engine.Double(1.5), "REAL", 7, false},
		{engine.Double(0.1), "DOUBLE", 8, false},
		{S("x"), "TEXT", 12, false},
		{S("abc"), "VARCHAR", 12, false},
		{engine.Blob([]byte{0, 0xff}), "BLOB", 2004, false},
		{S("1.5"), "NUMERIC", 2, true},
		{S("12.3"), "DECIMAL", 3, true},
		{engine.Bool(true), "BOOLEAN", 16, false},
		{S("2021-03-10"), "DATE", 91, false},
		{S("2021-03-10 22:41:04"), "DATETIME", 93, false},
		{S("2021-03-10 22:41:04.100"), "TIMESTAMP", 93, false},
		{engine.Null(), "INTEGER", 4, false},
		{S("free"), "TEXT", 12, false},
		{engine.Long(2), "INTEGER", 4, false},
		{engine.Double(0.5), "REAL", 7, false},
		{S("lit"), "TEXT", 12, false},
		{engine.Blob([]byte{1}), "BLOB", 2004, false},
		{engine.Null(), "", 0, false},
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != len(want) {
		t.Fatalf("rows = %v", res.Rows)
	}
	for i, w := range want {
		col := res.Columns[i]
		t.Run(col.Name, func(t *testing.T) {
			if got := res.Rows[0][i]; !reflect.DeepEqual(got, w.v) {
				t.Errorf("value = %#v, want %#v", got, w.v)
			}
			if col.TypeName != w.typeName || col.Type != w.jdbc || res.Decimal[i] != w.decimal {
				t.Errorf("column = %+v decimal %v, want %s/%d/%v", col, res.Decimal[i], w.typeName, w.jdbc, w.decimal)
			}
		})
	}
	if got := res.Columns[8]; got.Precision != 10 || got.Scale != 2 {
		t.Errorf("DECIMAL(10,2) precision/scale = %d/%d", got.Precision, got.Scale)
	}
}

func TestConn_Exec_params(t *testing.T) {
	c := connect(t, newEngine(t), "")
	exec(t, c, `CREATE TABLE p(a, b, c, d, e, f)`)
	exec(t, c, `INSERT INTO p VALUES (:s, :l, :d, :b, :blob, :n)`,
		engine.Param{Name: "s", Value: engine.String("x"), Hint: engine.HintJSON},
		engine.Param{Name: "l", Value: engine.Long(-7)},
		engine.Param{Name: "d", Value: engine.Double(2.5)},
		engine.Param{Name: "b", Value: engine.Bool(true)},
		engine.Param{Name: "blob", Value: engine.Blob(nil)},
		engine.Param{Name: "n", Value: engine.Null()})
	res := exec(t, c, `SELECT a, b, c, d, e, f, typeof(e) FROM p WHERE a = :s AND b = :l`,
		engine.Param{Name: "s", Value: engine.String("x")}, engine.Param{Name: "l", Value: engine.Long(-7)})
	want := []engine.Value{engine.String("x"), engine.Long(-7), engine.Double(2.5), engine.Long(1), engine.Blob([]byte{}), engine.Null(), engine.String("blob")}
	if len(res.Rows) != 1 || !reflect.DeepEqual(res.Rows[0], want) {
		t.Fatalf("rows = %#v, want %#v", res.Rows, want)
	}
	_, err := c.Exec(context.Background(), "SELECT :a", []engine.Param{{Name: "a", Value: engine.Value{Kind: engine.KindArray}}}, 0)
	var pe *engine.ParamError
	if !errors.As(err, &pe) || !pe.Validation {
		t.Fatalf("array param: err = %v", err)
	}
	_, err = c.Exec(context.Background(), "SELECT 1; SELECT 2", nil, 0)
	if !errors.As(err, &pe) || pe.Msg != "Multistatements aren't supported." {
		t.Fatalf("multistatement: err = %v", err)
	}
}

func TestConn_Exec_autoIncrement(t *testing.T) {
	c := connect(t, newEngine(t), "")
	exec(t, c, `CREATE TABLE users(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)`)
	for want := int64(1); want <= 3; want++ {
		res := exec(t, c, `INSERT INTO users(name) VALUES (:n)`, engine.Param{Name: "n", Value: engine.String(fmt.Sprint("u", want))})
		if !reflect.DeepEqual(res.Generated, []engine.Value{engine.Long(want)}) || res.RowsAffected != 1 {
			t.Fatalf("insert %d: %+v", want, res)
		}
	}
	res := exec(t, c, `INSERT INTO users(name) VALUES ('r') RETURNING id`)
	if !res.HasResultSet || !reflect.DeepEqual(res.Rows, [][]engine.Value{{engine.Long(4)}}) || res.RowsAffected != 1 || res.Generated != nil {
		t.Fatalf("RETURNING: %+v", res)
	}
	res = exec(t, c, `DELETE FROM users WHERE id > 2`)
	if res.RowsAffected != 2 || len(res.Generated) != 0 {
		t.Fatalf("DELETE: %+v", res)
	}
}

func TestConn_Exec_errors(t *testing.T) {
	c := connect(t, newEngine(t), "")
	_, err := c.Exec(context.Background(), "SELEC 1", nil, 0)
	var de *engine.DBError
	if !errors.As(err, &de) || de.Message != `SQL logic error: near "SELEC": syntax error` || de.Code != 1 || de.SQLState != "HY000" {
		t.Fatalf("syntax error: %#v", err)
	}
	exec(t, c, `CREATE TABLE u(k TEXT PRIMARY KEY)`)
	exec(t, c, `INSERT INTO u VALUES ('a')`)
	_, err = c.Exec(context.Background(), `INSERT INTO u VALUES ('a')`, nil, 0)
	if !errors.As(err, &de) || de.SQLState != "23000" || de.Code != 1555 { // SQLITE_CONSTRAINT_PRIMARYKEY
		t.Fatalf("duplicate key: %#v", err)
	}
	if c.Broken() {
		t.Fatal("broken after SQL errors")
	}
}

func TestConn_Exec_timeout(t *testing.T) {
	c := connect(t, newEngine(t), "")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n`, nil, 0)
	if !errors.Is(err, engine.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("interrupt took %v", d)
	}
	if got := exec(t, c, "SELECT 7").Rows[0][0].Long; got != 7 || c.Broken() {
		t.Fatalf("after timeout: %d broken=%v", got, c.Broken())
	}
}

func TestConn_Exec_resultTooLarge(t *testing.T) {
	c := connect(t, newEngine(t), "")
	_, err := c.Exec(context.Background(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n LIMIT 100000) SELECT i, printf('%.100c', 'x') FROM n`, nil, 10_000)
	if !errors.Is(err, engine.ErrResultTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if got := exec(t, c, "SELECT 8").Rows[0][0].Long; got != 8 {
		t.Fatalf("after abort: %d", got)
	}
}

func TestConn_transactions(t *testing.T) {
	e := newEngine(t)
	c := connect(t, e, "")
	ctx := context.Background()
	exec(t, c, `CREATE TABLE tx(n INTEGER)`)
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, `INSERT INTO tx VALUES (1)`)
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, `INSERT INTO tx VALUES (2)`)
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := exec(t, c, `SELECT group_concat(n) FROM tx`).Rows[0][0]; got.String != "2" {
		t.Fatalf("rows = %v", got)
	}
	var de *engine.DBError
	if err := c.Commit(ctx); !errors.As(err, &de) {
		t.Fatalf("Commit without transaction: %v", err)
	}
	// A transaction left open is rolled back when the Conn is closed.
	c2 := connect(t, e, "")
	if err := c2.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c2, `INSERT INTO tx VALUES (3)`)
	c2.Close()
	if got := exec(t, c, `SELECT count(*) FROM tx`).Rows[0][0].Long; got != 1 {
		t.Fatalf("count = %d", got)
	}
}

// TestConn_concurrency: 20 connections writing at once, in and out of
// transactions, never see SQLITE_BUSY.
func TestConn_concurrency(t *testing.T) {
	e := newEngine(t)
	setup := connect(t, e, "")
	exec(t, setup, `CREATE TABLE hits(id INTEGER PRIMARY KEY AUTOINCREMENT, worker INTEGER, n INTEGER)`)
	const workers, rounds = 20, 25
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ci, err := e.Connect(ctx, engine.Credentials{})
			if err != nil {
				errs <- err
				return
			}
			defer ci.Close()
			c := ci.(*Conn)
			for i := range rounds {
				p := []engine.Param{{Name: "w", Value: engine.Long(int64(w))}, {Name: "n", Value: engine.Long(int64(i))}}
				if i%2 == 0 {
					if _, err := c.Exec(ctx, `INSERT INTO hits(worker, n) VALUES (:w, :n)`, p, 0); err != nil {
						errs <- fmt.Errorf("worker %d insert: %w", w, err)
						return
					}
					continue
				}
				if err := c.Begin(ctx); err != nil {
					errs <- fmt.Errorf("worker %d begin: %w", w, err)
					return
				}
				if _, err := c.Exec(ctx, `SELECT count(*) FROM hits WHERE worker = :w`, p, 0); err != nil {
					errs <- fmt.Errorf("worker %d read: %w", w, err)
					return
				}
				if _, err := c.Exec(ctx, `INSERT INTO hits(worker, n) VALUES (:w, :n)`, p, 0); err != nil {
					errs <- fmt.Errorf("worker %d txn insert: %w", w, err)
					return
				}
				if err := c.Commit(ctx); err != nil {
					errs <- fmt.Errorf("worker %d commit: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := exec(t, setup, `SELECT count(*) FROM hits`).Rows[0][0].Long; got != workers*rounds {
		t.Fatalf("rows = %d, want %d", got, workers*rounds)
	}
}

func TestEngine_Connect_databases(t *testing.T) {
	e := newEngine(t)
	main := connect(t, e, "")
	exec(t, main, `CREATE TABLE where_am_i(db TEXT)`)
	exec(t, main, `INSERT INTO where_am_i VALUES ('main')`)

	other := connect(t, e, "Other_1")
	exec(t, other, `CREATE TABLE where_am_i(db TEXT)`)
	exec(t, other, `INSERT INTO where_am_i VALUES ('Other_1')`)
	if _, err := os.Stat(filepath.Join(e.cfg.DataDir, "Other_1.db")); err != nil {
		t.Fatalf("database file: %v", err)
	}
	for db, want := range map[string]string{"": "main", "main": "main", "Other_1": "Other_1"} {
		c := connect(t, e, db)
		if got := exec(t, c, `SELECT db FROM where_am_i`).Rows[0][0].String; got != want {
			t.Errorf("database %q: got %q", db, got)
		}
	}
	for _, bad := range []string{"../etc", "a.b", "a b", "", "x/y", "ü", string(make([]byte, 65))} {
		if bad == "" {
			continue
		}
		_, err := e.Connect(context.Background(), engine.Credentials{Database: bad})
		var de *engine.DBError
		if !errors.As(err, &de) {
			t.Errorf("Connect(%q) = %v, want DBError", bad, err)
		}
	}
	if main.ID() == other.ID() {
		t.Errorf("IDs not unique: %d", main.ID())
	}
}

func TestNew_config(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New with empty path succeeded")
	}
	e, err := New(Config{Path: filepath.Join(t.TempDir(), "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Name() != "sqlite" {
		t.Errorf("Name() = %q", e.Name())
	}
	c, err := e.Connect(context.Background(), engine.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Exec(context.Background(), "PRAGMA journal_mode", nil, 0)
	if err != nil || res.Rows[0][0].String != "wal" {
		t.Fatalf("journal_mode = %v, %v", res, err)
	}
	res, err = c.Exec(context.Background(), "PRAGMA foreign_keys", nil, 0)
	if err != nil || res.Rows[0][0].Long != 1 {
		t.Fatalf("foreign_keys = %v, %v", res, err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
