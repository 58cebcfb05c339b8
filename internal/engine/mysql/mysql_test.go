package mysql

import (
	"github.com/sqlgate/sqlgate/internal/testdb"

	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// testDSN returns SQLGATE_TEST_MYSQL_DSN, skipping when it is unset unless
// SQLGATE_REQUIRE_DB says the databases were provisioned.
func testDSN(t testing.TB) *mysql.Config {
	t.Helper()
	cfg, err := mysql.ParseDSN(testdb.MySQLDSN(t))
	if err != nil {
		t.Fatalf("parse SQLGATE_TEST_MYSQL_DSN: %v", err)
	}
	return cfg
}

// connect opens an engine connection to the test database.
func connect(t *testing.T) *Conn {
	t.Helper()
	c := dial(t)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func dial(t *testing.T) *Conn {
	t.Helper()
	cfg := testDSN(t)
	e := New(Config{Address: cfg.Addr, ConnectTimeout: 5 * time.Second})
	c, err := e.Connect(context.Background(), engine.Credentials{User: cfg.User, Password: cfg.Passwd, Database: cfg.DBName})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return c.(*Conn)
}

var tableSeq atomic.Int64

// table returns a table name unique to this test run.
func table(t *testing.T, c *Conn, base string) string {
	t.Helper()
	name := fmt.Sprintf("%s_%d_%d", base, os.Getpid(), tableSeq.Add(1))
	t.Cleanup(func() {
		cl := dial(t)
		defer cl.Close()
		_, _ = cl.Exec(context.Background(), "DROP TABLE IF EXISTS "+name, nil, 0)
	})
	return name
}

func mustExec(t *testing.T, c engine.Conn, sql string, params ...engine.Param) *engine.Result {
	t.Helper()
	res, err := c.Exec(t.Context(), sql, params, 0)
	if err != nil {
		t.Fatalf("Exec(%q): %v", sql, err)
	}
	return res
}

func TestConn_ExecSeedExamples(t *testing.T) {
	c := connect(t)
	pets := table(t, c, "Pets")
	res := mustExec(t, c, "CREATE TABLE "+pets+"(id varchar(200), type varchar(200), price float)")
	if res.HasResultSet || res.RowsAffected != 0 || res.Generated == nil || len(res.Generated) != 0 {
		t.Errorf("CREATE = %+v, want no result set, 0 rows, empty generated", res)
	}
	res = mustExec(t, c, "INSERT INTO "+pets+" VALUES ('111','dog',123)")
	if res.RowsAffected != 1 || res.Generated == nil || len(res.Generated) != 0 {
		t.Errorf("INSERT = %+v, want 1 row, Generated []", res)
	}
	res = mustExec(t, c, "SELECT * FROM "+pets)
	want := []engine.Value{engine.String("111"), engine.String("dog"), engine.Double(123)}
	if !res.HasResultSet || len(res.Rows) != 1 || !equalRow(res.Rows[0], want) {
		t.Errorf("SELECT = %+v, want one row %v", res, want)
	}

	users := table(t, c, "users")
	mustExec(t, c, "CREATE TABLE "+users+"(id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50))")
	res = mustExec(t, c, "INSERT INTO "+users+"(name) VALUES (:name)", engine.Param{Name: "name", Value: engine.String("ann")})
	if res.RowsAffected != 1 || !equalRow(res.Generated, []engine.Value{engine.Long(1)}) {
		t.Errorf("INSERT users = %+v, want Generated [Long(1)]", res)
	}
	res = mustExec(t, c, "UPDATE "+users+" SET name = 'ann' WHERE id = 1")
	if res.RowsAffected != 1 || len(res.Generated) != 0 {
		t.Errorf("UPDATE same value = %+v, want 1 (found rows, as JDBC) and no generated keys", res)
	}
	res = mustExec(t, c, "SELECT * FROM "+users+" WHERE id = :id;", engine.Param{Name: "id", Value: engine.Long(1)})
	if len(res.Rows) != 1 || !equalRow(res.Rows[0], []engine.Value{engine.Long(1), engine.String("ann")}) {
		t.Errorf("SELECT users = %+v", res.Rows)
	}
	wantCol := engine.Column{Name: "id", Label: "id", TypeName: "INT", Type: engine.JDBCInteger, Precision: 11,
		Nullable: 0, IsSigned: true, IsAutoIncrement: true, TableName: users}
	if res.Columns[0] != wantCol {
		t.Errorf("id column = %+v, want %+v", res.Columns[0], wantCol)
	}
}

func equalRow(got, want []engine.Value) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !equalValue(got[i], want[i]) {
			return false
		}
	}
	return true
}

func equalValue(a, b engine.Value) bool {
	return a.Kind == b.Kind && a.Bool == b.Bool && a.Long == b.Long && a.Double == b.Double &&
		a.String == b.String && string(a.Blob) == string(b.Blob)
}

func TestConn_ExecErrors(t *testing.T) {
	c := connect(t)
	t.Run("syntax error", func(t *testing.T) {
		_, err := c.Exec(t.Context(), "SELEC 1", nil, 0)
		var de *engine.DBError
		if !errors.As(err, &de) || de.Code != 1064 || de.SQLState != "42000" {
			t.Fatalf("err = %#v, want DBError 1064/42000", err)
		}
		if c.Broken() {
			t.Fatal("connection broken after a SQL error")
		}
		mustExec(t, c, "SELECT 1")
	})
	t.Run("multi statement", func(t *testing.T) {
		_, err := c.Exec(t.Context(), "SELECT 1; SELECT 2", nil, 0)
		var pe *engine.ParamError
		if !errors.As(err, &pe) || !pe.Validation || pe.Msg != "Multistatements aren't supported." {
			t.Fatalf("err = %#v, want validation ParamError", err)
		}
	})
	t.Run("missing parameter", func(t *testing.T) {
		_, err := c.Exec(t.Context(), "SELECT :a", nil, 0)
		var pe *engine.ParamError
		if !errors.As(err, &pe) || pe.Validation {
			t.Fatalf("err = %#v, want ParamError", err)
		}
	})
	t.Run("array parameter", func(t *testing.T) {
		_, err := c.Exec(t.Context(), "SELECT :a", []engine.Param{{Name: "a", Value: engine.Value{Kind: engine.KindArray}}}, 0)
		var pe *engine.ParamError
		if !errors.As(err, &pe) || !pe.Validation || pe.Msg != "Array parameters are not supported." {
			t.Fatalf("err = %#v, want validation ParamError", err)
		}
	})
	t.Run("bad hint", func(t *testing.T) {
		_, err := c.Exec(t.Context(), "SELECT :a", []engine.Param{{Name: "a", Value: engine.String("2021-13"), Hint: engine.HintDate}}, 0)
		var pe *engine.ParamError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %#v, want ParamError", err)
		}
	})
	t.Run("result too large", func(t *testing.T) {
		c := connect(t)
		_, err := c.Exec(t.Context(), "SELECT REPEAT('x', 1000) FROM information_schema.COLUMNS a, information_schema.COLUMNS b", nil, 64<<10)
		if !errors.Is(err, engine.ErrResultTooLarge) {
			t.Fatalf("err = %v, want ErrResultTooLarge", err)
		}
		if !c.Broken() {
			t.Fatal("connection not marked broken after abandoning a result")
		}
	})
	t.Run("unavailable", func(t *testing.T) {
		cfg := testDSN(t)
		e := New(Config{Address: "127.0.0.1:1", ConnectTimeout: time.Second})
		_, err := e.Connect(t.Context(), engine.Credentials{User: cfg.User, Password: cfg.Passwd})
		if !errors.Is(err, engine.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("access denied", func(t *testing.T) {
		cfg := testDSN(t)
		e := New(Config{Address: cfg.Addr})
		_, err := e.Connect(t.Context(), engine.Credentials{User: cfg.User, Password: "wrong"})
		var de *engine.DBError
		if !errors.As(err, &de) || de.Code != 1045 {
			t.Fatalf("err = %v, want DBError 1045", err)
		}
	})
}

func TestConn_ExecTimeout(t *testing.T) {
	c := connect(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, "SELECT SLEEP(5)", nil, 0)
	if !errors.Is(err, engine.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Exec returned after %v", d)
	}
	// The statement is gone on the server, and the connection is still usable.
	obs := connect(t)
	testdb.Eventually(t, 2*time.Second, 50*time.Millisecond, "SLEEP gone from the server", func() bool {
		res := mustExec(t, obs, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = :id AND INFO LIKE 'SELECT SLEEP%'",
			engine.Param{Name: "id", Value: engine.Long(c.ID())})
		return res.Rows[0][0].Long == 0
	})
	if c.Broken() {
		t.Fatal("connection broken after KILL QUERY")
	}
	res := mustExec(t, c, "SELECT 42")
	if res.Rows[0][0].Long != 42 {
		t.Fatalf("after timeout: %v", res.Rows)
	}
}

func TestConn_Transaction(t *testing.T) {
	c := connect(t)
	tbl := table(t, c, "txn")
	mustExec(t, c, "CREATE TABLE "+tbl+"(id INT)")
	ctx := t.Context()
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "INSERT INTO "+tbl+" VALUES (1)")
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "INSERT INTO "+tbl+" VALUES (2)")
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	res := mustExec(t, c, "SELECT id FROM "+tbl)
	if len(res.Rows) != 1 || res.Rows[0][0].Long != 2 {
		t.Fatalf("rows = %v, want [[2]]", res.Rows)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if c.ID() <= 0 {
		t.Fatalf("ID = %d", c.ID())
	}
}
