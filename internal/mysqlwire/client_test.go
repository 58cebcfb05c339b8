package mysqlwire

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

func dialConfig(t *testing.T) *mysql.Config {
	t.Helper()
	cfg, err := mysql.ParseDSN(testdb.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// dial logs in to the test database with the codec's client.
func dial(t *testing.T, db bool) (*Client, *[]StateChange) {
	t.Helper()
	cfg := dialConfig(t)
	opts := Options{Address: cfg.Addr, User: cfg.User, Password: cfg.Passwd, Timeout: 5 * time.Second,
		ExtraCaps: CapFoundRows, Attrs: map[string]string{"program_name": "mysqlwire-test"}}
	if db {
		opts.Database = cfg.DBName
	}
	c, err := Dial(t.Context(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	var states []StateChange
	c.OnState = func(sc StateChange) { states = append(states, sc) }
	return c, &states
}

// query runs sql and returns its rows as strings ("NULL" for NULL).
func query(t *testing.T, c *Client, sql string) ([][]string, *Rows) {
	t.Helper()
	r, err := c.Query(sql)
	if err != nil {
		t.Fatalf("Query(%q): %v", sql, err)
	}
	return collect(t, r), r
}

func collect(t *testing.T, r *Rows) [][]string {
	t.Helper()
	var out [][]string
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		var s []string
		for _, v := range row {
			if v == nil {
				s = append(s, "NULL")
			} else {
				s = append(s, string(v))
			}
		}
		out = append(out, s)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return out
}

func TestClient_QueryAndStatus(t *testing.T) {
	c, _ := dial(t, true)
	if c.ConnID() == 0 || !strings.Contains(c.ServerVersion(), "-") {
		t.Fatalf("greeting: id %d version %q", c.ConnID(), c.ServerVersion())
	}
	rows, r := query(t, c, "SELECT CONNECTION_ID(), NULL, 'x' AS s, DATABASE()")
	if len(rows) != 1 || rows[0][1] != "NULL" || rows[0][2] != "x" || rows[0][3] != "sqlgate_test" {
		t.Fatalf("rows = %v", rows)
	}
	if r.Columns[2].Name != "s" || r.Columns[2].Type != TypeVarString {
		t.Fatalf("column = %+v", r.Columns[2])
	}
	if _, err := c.Query("SELEC 1"); err == nil {
		t.Fatal("syntax error not reported")
	} else if se := (*Error)(nil); !errors.As(err, &se) || se.Code != 1064 || se.State != "42000" {
		t.Fatalf("err = %v", err)
	}
	query(t, c, "BEGIN")
	if c.Status()&StatusInTrans == 0 {
		t.Fatalf("status %#x after BEGIN lacks IN_TRANS", c.Status())
	}
	query(t, c, "ROLLBACK")
	if c.Status()&StatusInTrans != 0 {
		t.Fatalf("status %#x after ROLLBACK has IN_TRANS", c.Status())
	}
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestClient_AccessDenied(t *testing.T) {
	cfg, err := mysql.ParseDSN(testdb.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Dial(t.Context(), Options{Address: cfg.Addr, User: cfg.User, Password: "wrong"})
	var se *Error
	if !errors.As(err, &se) || se.Code != 1045 {
		t.Fatalf("err = %v, want 1045", err)
	}
	_, err = Dial(t.Context(), Options{Address: "127.0.0.1:1", User: "x", Timeout: time.Second})
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("err = %v, want ErrNetwork", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err = Dial(ctx, Options{Address: cfg.Addr, User: cfg.User}); err == nil {
		t.Fatal("Dial with a cancelled ctx succeeded")
	}
}

func TestClient_PreparedBinary(t *testing.T) {
	c, _ := dial(t, true)
	st, err := c.Prepare("SELECT ? + 1, ?, ?, CAST(? AS DATETIME(3)), CAST('-838:59:59.5' AS TIME(1)), " +
		"CAST(? AS DOUBLE), CAST(1.5 AS FLOAT), ?, DATE '2021-03-04', CAST(18446744073709551615 AS UNSIGNED), CAST(-5 AS SIGNED)")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Params) != 6 || len(st.Columns) != 11 {
		t.Fatalf("stmt = %+v", st)
	}
	r, err := c.Execute(st, []any{int64(41), "it's", []byte{0, 1}, "2021-01-02 03:04:05.678", 0.25, nil})
	if err != nil {
		t.Fatal(err)
	}
	rows := collect(t, r)
	want := []string{"42", "it's", "\x00\x01", "2021-01-02 03:04:05.678", "-838:59:59.5", "0.25", "1.5", "NULL",
		"2021-03-04", "18446744073709551615", "-5"}
	if len(rows) != 1 || strings.Join(rows[0], "|") != strings.Join(want, "|") {
		t.Fatalf("rows = %q\nwant %q", rows, want)
	}
	if err := c.CloseStmt(st); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Execute(st, nil); err == nil {
		t.Fatal("closed statement executed")
	}
	query(t, c, "DO 1") // still in sync
}

func TestClient_MultiResultCall(t *testing.T) {
	c, _ := dial(t, true)
	name := "mw_proc_" + strings.ReplaceAll(t.Name(), "/", "_")
	query(t, c, "DROP PROCEDURE IF EXISTS "+name)
	query(t, c, "CREATE PROCEDURE "+name+"() BEGIN SELECT 1; SELECT 2, 3; END")
	t.Cleanup(func() { _, _ = c.Query("DROP PROCEDURE IF EXISTS " + name) })
	rows, _ := query(t, c, "CALL "+name+"()")
	if len(rows) != 1 || rows[0][0] != "1" {
		t.Fatalf("first result = %v", rows)
	}
	rows, _ = query(t, c, "SELECT 7")
	if rows[0][0] != "7" {
		t.Fatalf("after CALL: %v", rows)
	}
}
