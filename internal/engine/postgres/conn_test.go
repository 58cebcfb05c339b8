package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func TestConn_Exec_params(t *testing.T) {
	c := connect(t)
	S := engine.String
	tests := []struct {
		name     string
		param    engine.Param
		want     engine.Value
		typeName string
	}{
		{"string is varchar", engine.Param{Value: S("abc")}, S("abc"), "varchar"},
		{"JSON hint is jsonb", engine.Param{Value: S(`{"a":1}`), Hint: engine.HintJSON}, S(`{"a": 1}`), "jsonb"},
		{"UUID hint", engine.Param{Value: S("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), Hint: engine.HintUUID}, S("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid"},
		{"DATE hint", engine.Param{Value: S("2021-03-10"), Hint: engine.HintDate}, S("2021-03-10"), "date"},
		{"TIME hint", engine.Param{Value: S("12:34:56.789"), Hint: engine.HintTime}, S("12:34:56.789"), "time"},
		{"TIMESTAMP hint", engine.Param{Value: S("2021-03-10 12:34:56.5"), Hint: engine.HintTimestamp}, S("2021-03-10 12:34:56.500"), "timestamp"},
		{"DECIMAL hint", engine.Param{Value: S("1.50"), Hint: engine.HintDecimal}, S("1.50"), "numeric"},
		{"long is int8", engine.Param{Value: engine.Long(-42)}, engine.Long(-42), "int8"},
		{"double is float8", engine.Param{Value: engine.Double(0.25)}, engine.Double(0.25), "float8"},
		{"bool", engine.Param{Value: engine.Bool(true)}, engine.Bool(true), "bool"},
		{"blob is bytea", engine.Param{Value: engine.Blob([]byte{0, 1, 0xff})}, engine.Blob([]byte{0, 1, 0xff}), "bytea"},
		{"null is untyped", engine.Param{Value: engine.Null()}, engine.Null(), "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.param
			p.Name = "v"
			res := exec(t, c, "SELECT :v AS v", p)
			if got := res.Rows[0][0]; !sameValue(got, tt.want) {
				t.Errorf("value = %#v, want %#v", got, tt.want)
			}
			if got := res.Columns[0].TypeName; got != tt.typeName {
				t.Errorf("type = %q, want %q", got, tt.typeName)
			}
		})
	}

	t.Run("array is rejected", func(t *testing.T) {
		_, err := c.Exec(context.Background(), "SELECT :v", []engine.Param{{Name: "v", Value: arr(engine.KindLong, engine.Long(1))}}, 0)
		var pe *engine.ParamError
		if !errors.As(err, &pe) || !pe.Validation || pe.Msg != "Array parameters are not supported." {
			t.Fatalf("err = %v, want validation ParamError", err)
		}
	})
	t.Run("multistatement is rejected", func(t *testing.T) {
		_, err := c.Exec(context.Background(), "SELECT 1; SELECT 2", nil, 0)
		var pe *engine.ParamError
		if !errors.As(err, &pe) || !pe.Validation || pe.Msg != "Multistatements aren't supported." {
			t.Fatalf("err = %v, want validation ParamError", err)
		}
	})

	exec(t, c, `DROP TABLE IF EXISTS sqlgate_pgeng_docs`)
	exec(t, c, `CREATE TABLE sqlgate_pgeng_docs(id int, doc jsonb)`)
	t.Cleanup(func() { c.Exec(context.Background(), `DROP TABLE IF EXISTS sqlgate_pgeng_docs`, nil, 0) })
	t.Run("string into jsonb fails like AWS", func(t *testing.T) {
		_, err := c.Exec(context.Background(), "INSERT INTO sqlgate_pgeng_docs(doc) VALUES (:d)",
			[]engine.Param{{Name: "d", Value: S(`{"a":1}`)}}, 0)
		var de *engine.DBError
		if !errors.As(err, &de) || de.SQLState != "42804" ||
			!strings.HasPrefix(de.Message, `ERROR: column "doc" is of type jsonb but expression is of type character varying`+"\n  Hint: You will need to rewrite or cast the expression.\n  Position: ") {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("JSON hint into jsonb", func(t *testing.T) {
		res := exec(t, c, "INSERT INTO sqlgate_pgeng_docs(id, doc) VALUES (:id, :d)",
			engine.Param{Name: "d", Value: S(`{"a":1}`), Hint: engine.HintJSON}, engine.Param{Name: "id", Value: engine.Null()})
		if res.RowsAffected != 1 {
			t.Fatalf("RowsAffected = %d", res.RowsAffected)
		}
	})
}

func TestConn_Exec_dollarPlaceholderIsNotAParameter(t *testing.T) {
	c := connect(t)
	_, err := c.Exec(context.Background(), "SELECT $1::text", nil, 0)
	var de *engine.DBError
	if !errors.As(err, &de) || de.SQLState != "08P01" ||
		!strings.HasPrefix(de.Message, "ERROR: bind message supplies 0 parameters, but prepared statement") {
		t.Fatalf("err = %#v", err)
	}
	if got := exec(t, c, "SELECT 1").Rows[0][0].Long; got != 1 {
		t.Fatalf("conn out of sync: %d", got)
	}
}

// TestConn_Exec_pets runs the seed example of the spec against PostgreSQL.
func TestConn_Exec_pets(t *testing.T) {
	c := connect(t)
	exec(t, c, `DROP TABLE IF EXISTS sqlgate_pgeng_pets`)
	res := exec(t, c, `CREATE TABLE sqlgate_pgeng_pets(id varchar(200), type varchar(200), price float)`)
	t.Cleanup(func() { c.Exec(context.Background(), `DROP TABLE IF EXISTS sqlgate_pgeng_pets`, nil, 0) })
	if res.HasResultSet || res.RowsAffected != 0 || res.Generated == nil || len(res.Generated) != 0 {
		t.Fatalf("DDL result = %+v", res)
	}
	res = exec(t, c, `INSERT INTO sqlgate_pgeng_pets VALUES ('111','dog',123)`)
	if res.HasResultSet || res.RowsAffected != 1 || res.Generated == nil || len(res.Generated) != 0 {
		t.Fatalf("INSERT result = %+v", res)
	}
	res = exec(t, c, `SELECT * FROM sqlgate_pgeng_pets`)
	want := []engine.Value{engine.String("111"), engine.String("dog"), engine.Double(123)}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 3 {
		t.Fatalf("rows = %v", res.Rows)
	}
	for i := range want {
		if !sameValue(res.Rows[0][i], want[i]) {
			t.Errorf("col %d = %#v, want %#v", i, res.Rows[0][i], want[i])
		}
	}
	if got := res.Columns[2]; got.TypeName != "float8" || got.Type != engine.JDBCDouble || got.Name != "price" {
		t.Errorf("price column = %+v", got)
	}
	res = exec(t, c, `UPDATE sqlgate_pgeng_pets SET price = 124 WHERE id = '111'`)
	if res.RowsAffected != 1 {
		t.Errorf("UPDATE RowsAffected = %d", res.RowsAffected)
	}
	res = exec(t, c, `INSERT INTO sqlgate_pgeng_pets VALUES ('112','cat',1), ('113','cat',2) RETURNING id`)
	if !res.HasResultSet || len(res.Rows) != 2 || res.RowsAffected != 2 {
		t.Errorf("INSERT RETURNING = %+v", res)
	}
}

func TestConn_DescribeColumns(t *testing.T) {
	c := connect(t)
	exec(t, c, `DROP TABLE IF EXISTS sqlgate_pgeng_users`)
	exec(t, c, `CREATE TABLE sqlgate_pgeng_users(id serial PRIMARY KEY, big bigint GENERATED ALWAYS AS IDENTITY, name text NOT NULL, note varchar(20))`)
	t.Cleanup(func() { c.Exec(context.Background(), `DROP TABLE IF EXISTS sqlgate_pgeng_users`, nil, 0) })
	exec(t, c, `INSERT INTO sqlgate_pgeng_users(name) VALUES ('ann')`)
	res := exec(t, c, `SELECT id, big, name, note, 1 AS one FROM sqlgate_pgeng_users`)
	if err := c.DescribeColumns(context.Background(), res); err != nil {
		t.Fatalf("DescribeColumns: %v", err)
	}
	want := []struct {
		typeName, table string
		nullable        int32
		autoInc         bool
	}{
		{"serial", "sqlgate_pgeng_users", 0, true},
		{"bigserial", "sqlgate_pgeng_users", 0, true},
		{"text", "sqlgate_pgeng_users", 0, false},
		{"varchar", "sqlgate_pgeng_users", 1, false},
		{"int4", "", 2, false},
	}
	for i, w := range want {
		got := res.Columns[i]
		if got.TypeName != w.typeName || got.TableName != w.table || got.Nullable != w.nullable || got.IsAutoIncrement != w.autoInc || got.SchemaName != "" {
			t.Errorf("column %d = %+v, want %+v", i, got, w)
		}
	}
	exec(t, c, "SELECT 1")
	if err := c.DescribeColumns(context.Background(), res); err == nil {
		t.Error("DescribeColumns of a stale result succeeded")
	}
}

func TestConn_Exec_errors(t *testing.T) {
	c := connect(t)
	_, err := c.Exec(context.Background(), "SELEC 1", nil, 0)
	var de *engine.DBError
	if !errors.As(err, &de) || de.SQLState != "42601" || de.Message != "ERROR: syntax error at or near \"SELEC\"\n  Position: 1" {
		t.Fatalf("err = %#v", err)
	}
	if got, want := de.Error(), "ERROR: syntax error at or near \"SELEC\"\n  Position: 1; SQLState: 42601"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err = c.Exec(context.Background(), "SELECT * FROM sqlgate_pgeng_missing", nil, 0)
	if !errors.As(err, &de) || de.SQLState != "42P01" || !strings.HasPrefix(de.Message, `ERROR: relation "sqlgate_pgeng_missing" does not exist`) {
		t.Fatalf("err = %#v", err)
	}
	if c.Broken() {
		t.Fatal("conn broken by a SQL error")
	}
}

func TestConn_Exec_timeout(t *testing.T) {
	c := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, "SELECT pg_sleep(30) AS sqlgate_pgeng_sleep", nil, 0)
	if !errors.Is(err, engine.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
	if c.Broken() {
		t.Fatal("conn broken after a cancelled statement")
	}
	// The backend really stopped: nothing of ours is still active.
	other := connect(t)
	res := exec(t, other, `SELECT count(*) FROM pg_stat_activity WHERE pid = `+strconv.FormatInt(c.ID(), 10)+` AND state = 'active'`)
	if n := res.Rows[0][0].Long; n != 0 {
		t.Fatalf("%d statements still active on backend %d", n, c.ID())
	}
	if got := exec(t, c, "SELECT 2").Rows[0][0].Long; got != 2 {
		t.Fatalf("after cancel: %d", got)
	}
}

func TestConn_Exec_resultTooLarge(t *testing.T) {
	c := connect(t)
	_, err := c.Exec(context.Background(), "SELECT repeat('x', 1000) FROM generate_series(1, 1000000)", nil, 100_000)
	if !errors.Is(err, engine.ErrResultTooLarge) {
		t.Fatalf("err = %v, want ErrResultTooLarge", err)
	}
	if c.Broken() {
		t.Fatal("conn broken")
	}
	if got := exec(t, c, "SELECT 3").Rows[0][0].Long; got != 3 {
		t.Fatalf("after abort: %d", got)
	}
	res, err := c.Exec(context.Background(), "SELECT repeat('x', 10)", nil, 100_000)
	if err != nil || res.Rows[0][0].String != "xxxxxxxxxx" {
		t.Fatalf("small result: %v %v", res, err)
	}
}

func TestConn_transactions(t *testing.T) {
	c := connect(t)
	ctx := context.Background()
	exec(t, c, `DROP TABLE IF EXISTS sqlgate_pgeng_tx`)
	exec(t, c, `CREATE TABLE sqlgate_pgeng_tx(n int)`)
	t.Cleanup(func() { c.Exec(ctx, `DROP TABLE IF EXISTS sqlgate_pgeng_tx`, nil, 0) })
	count := func() int64 { return exec(t, c, `SELECT count(*) FROM sqlgate_pgeng_tx`).Rows[0][0].Long }

	t.Run("commit", func(t *testing.T) {
		if err := c.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		exec(t, c, `INSERT INTO sqlgate_pgeng_tx VALUES (1)`)
		if err := c.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("count = %d", n)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		if err := c.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		exec(t, c, `INSERT INTO sqlgate_pgeng_tx VALUES (2)`)
		if err := c.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("count = %d", n)
		}
	})
	t.Run("commit after failed statement fails", func(t *testing.T) {
		if err := c.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		exec(t, c, `INSERT INTO sqlgate_pgeng_tx VALUES (3)`)
		if _, err := c.Exec(ctx, `SELECT 1/0`, nil, 0); err == nil {
			t.Fatal("division by zero succeeded")
		}
		_, err := c.Exec(ctx, `SELECT 1`, nil, 0)
		var de *engine.DBError
		if !errors.As(err, &de) || de.SQLState != "25P02" {
			t.Fatalf("statement in aborted txn: %v", err)
		}
		err = c.Commit(ctx)
		want := "The database returned ROLLBACK, so the transaction cannot be committed. Transaction failure cause is <<ERROR: division by zero>>"
		if !errors.As(err, &de) || de.SQLState != "25P02" || de.Message != want {
			t.Fatalf("Commit = %v, want %q", err, want)
		}
		if n := count(); n != 1 {
			t.Fatalf("count = %d", n)
		}
	})
}

func TestConn_ID(t *testing.T) {
	c := connect(t)
	if got := exec(t, c, "SELECT pg_backend_pid()").Rows[0][0].Long; got != c.ID() || got == 0 {
		t.Fatalf("pg_backend_pid() = %d, ID() = %d", got, c.ID())
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
