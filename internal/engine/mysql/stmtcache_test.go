package mysql

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json from the text protocol's results")

// goldenColumns are the column types of the golden test, each with values
// that tell renderings apart: FLOAT's six significant digits, exponents,
// fixed decimals, fractional seconds, negative times, zero fill, unsigned
// extremes.
var goldenColumns = []struct{ ddl, values string }{
	{"TINYINT", "-128, 127, 0"},
	{"TINYINT(1)", "1, 0, 5"},
	{"SMALLINT UNSIGNED", "65535, 0, 7"},
	{"MEDIUMINT", "-8388608, 8388607, 1"},
	{"INT(5) ZEROFILL", "42, 0, 12345"},
	{"BIGINT", "-9223372036854775808, 9223372036854775807, 0"},
	{"BIGINT UNSIGNED", "18446744073709551615, 9223372036854775808, 1"},
	{"FLOAT", "1.2345678, 1e20, -3.4e38"},
	{"FLOAT", "1234567, 0.1, 1.17549435e-38"},
	{"FLOAT(7,3)", "1234.5678, -0.001, 0"},
	{"DOUBLE", "1e20, 0.1, 1.7976931348623157e308"},
	{"DOUBLE", "5e-324, -2.5, 123456789012345680"},
	{"DOUBLE(10,4)", "3.14159265, -1, 0.00005"},
	{"DECIMAL(65,30)", "12345678901234567890.123456789012345678901234567890, -0.5, 0"},
	{"DECIMAL(5,2)", "-999.99, 0.1, 1"},
	{"BIT(1)", "b'1', b'0', b'1'"},
	{"BIT(64)", "b'1010', 0, 18446744073709551615"},
	{"DATE", "'2021-03-04', '1000-01-01', '9999-12-31'"},
	{"DATETIME", "'2019-11-12 22:00:11', '1000-01-01 00:00:00', '9999-12-31 23:59:59'"},
	{"DATETIME(1)", "'2019-11-12 22:00:11.5', '2019-11-12 22:00:11', '2019-11-12 22:00:11.05'"},
	{"DATETIME(3)", "'2022-01-01 00:00:00', '2022-01-01 00:00:00.123', '2022-01-01 00:00:00.0009'"},
	{"DATETIME(6)", "'9999-12-31 23:59:59.999999', '2000-01-01 00:00:00.000001', '2000-01-01'"},
	{"TIMESTAMP(2)", "'2019-11-12 22:00:11.5', '1970-01-02 00:00:00', '2038-01-19 03:14:07.99'"},
	{"TIME", "'12:34:56', '-838:59:59', '838:59:59'"},
	{"TIME(4)", "'-00:00:01.5', '100:00:00.1234', '00:00:00'"},
	{"YEAR", "2021, 1901, 2155"},
	{"CHAR(3)", "'abc', '', 'é'"},
	{"VARCHAR(20)", "'it''s', '?', 'ünïcødé'"},
	{"TEXT", "'long text', '', 'x'"},
	{"BINARY(3)", "x'000102', x'ff', 'a'"},
	{"VARBINARY(8)", "x'00ff', '', 'b'"},
	{"BLOB", "x'deadbeef', '', 'c'"},
	{"ENUM('a','b')", "'a', 'b', 'a'"},
	{"SET('x','y')", "'x,y', '', 'y'"},
	{"JSON", `'{"k": [1, 2.5]}', '[]', 'null'`},
	{"TINYINT UNSIGNED", "255, 0, 128"},
	{"SMALLINT", "-32768, 32767, -1"},
	{"MEDIUMINT UNSIGNED", "16777215, 0, 8388608"},
	{"INT", "-2147483648, 2147483647, -1"},
	{"INT UNSIGNED", "4294967295, 0, 2147483648"},
	{"BIGINT UNSIGNED", "9999999999999999999, 10000000000000000000, 9223372036854775807"},
	{"DOUBLE", "-0, 2.2250738585072014e-308, -4.9e-324"},
	{"DOUBLE", "0.30000000000000004, 1e-7, 123456.789e3"},
	{"DOUBLE(20,0)", "12345678901234567, -0.5, 0"},
	{"YEAR", "0, 2000, 1999"},
}

// TestStmtCache_GoldenTypes runs one SELECT three times on a connection:
// over the text protocol (first use), prepared (second use) and from the
// cache (third). All three results must be the golden file's, which the
// text protocol's result writes with -update.
func TestStmtCache_GoldenTypes(t *testing.T) {
	c := connect(t)
	tbl := table(t, c, "golden")
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE " + tbl + " (id INT PRIMARY KEY")
	rows := make([][]string, 3)
	for i, gc := range goldenColumns {
		fmt.Fprintf(&ddl, ", c%d %s NULL", i, gc.ddl)
		for r, v := range splitValues(gc.values) {
			rows[r] = append(rows[r], v)
		}
	}
	mustExec(t, c, ddl.String()+")")
	for r, vals := range rows {
		mustExec(t, c, "INSERT INTO "+tbl+" VALUES ("+strconv.Itoa(r+1)+", "+strings.Join(vals, ", ")+")")
	}
	mustExec(t, c, "INSERT INTO "+tbl+" (id) VALUES (4)") // all NULL
	query := "SELECT * FROM " + tbl + " ORDER BY id"
	golden := filepath.Join("testdata", "stmtcache_types.golden.json")
	for run, how := range []string{"text", "prepared", "cached"} {
		got := mustExec(t, c, query)
		if how != "text" && c.stmts.m[query] == nil {
			t.Fatalf("%s run: the statement is not in the cache", how)
		}
		b, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		b = append(bytes.ReplaceAll(b, []byte(tbl), []byte("T")), '\n')
		if run == 0 && *updateGolden {
			if err := os.WriteFile(golden, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s run differs from %s:\n%s", how, golden, lineDiff(string(want), string(b)))
		}
	}
}

// splitValues splits a goldenColumns value list at top-level commas.
func splitValues(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// lineDiff lists the lines that differ between want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d: want %s\n         got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// sessionStatus reads a counter of SHOW SESSION STATUS.
func sessionStatus(t *testing.T, c *Conn, name string) int64 {
	t.Helper()
	res := mustExec(t, c, "SHOW SESSION STATUS LIKE '"+name+"'")
	if len(res.Rows) != 1 {
		t.Fatalf("%s: %v", name, res.Rows)
	}
	n, err := strconv.ParseInt(res.Rows[0][1].String, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A statement is prepared once, on its second use, and executed by id
// after that; statements with parameters, session-changing statements and
// a dirty session keep the text protocol; Reset empties the cache.
func TestStmtCache_PrepareOnceAndInvalidate(t *testing.T) {
	c := connect(t)
	tbl := table(t, c, "stmts")
	mustExec(t, c, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, v VARCHAR(10))")
	mustExec(t, c, "INSERT INTO "+tbl+" VALUES (1, 'one')")
	query := "SELECT * FROM " + tbl
	prepared, executed := sessionStatus(t, c, "Com_stmt_prepare"), sessionStatus(t, c, "Com_stmt_execute")
	for range 5 {
		if res := mustExec(t, c, query); len(res.Rows) != 1 {
			t.Fatalf("rows = %v", res.Rows)
		}
	}
	if p, e := sessionStatus(t, c, "Com_stmt_prepare")-prepared, sessionStatus(t, c, "Com_stmt_execute")-executed; p != 1 || e != 4 {
		t.Fatalf("5 runs: %d prepares and %d executes, want 1 and 4", p, e)
	}

	// A column added meanwhile shows in the cached statement's result.
	mustExec(t, c, "ALTER TABLE "+tbl+" ADD COLUMN w INT DEFAULT 7")
	res := mustExec(t, c, query)
	if len(res.Columns) != 3 || res.Rows[0][2].Long != 7 {
		t.Fatalf("after ALTER TABLE: columns %v rows %v", res.Columns, res.Rows)
	}

	// Parameters keep the text protocol.
	for range 3 {
		mustExec(t, c, "SELECT v FROM "+tbl+" WHERE id = :id", engine.Param{Name: "id", Value: engine.Long(1)})
	}
	if len(c.stmts.m) != 1 {
		t.Fatalf("cache holds %d statements, want only the parameter-free one", len(c.stmts.m))
	}

	// A statement the server will not prepare (here: a syntax error) runs
	// as text, answering the text protocol's error every time.
	for i := range 3 {
		_, err := c.Exec(t.Context(), "SELECT FROM "+tbl, nil, 0)
		var e *engine.DBError
		if !errors.As(err, &e) || e.Code != 1064 {
			t.Fatalf("run %d: got %v, want error 1064", i+1, err)
		}
	}
	if refused := c.stmts.seen["SELECT FROM "+tbl]; !refused {
		t.Fatal("a statement the server refused to prepare is not remembered")
	}

	// A session whose state changed does not use the cache (the schema or
	// settings the statements were prepared under may be gone); a reset
	// drops it with the server's statements.
	mustExec(t, c, "SET @x = 1")
	before := sessionStatus(t, c, "Com_stmt_execute")
	mustExec(t, c, query)
	if n := sessionStatus(t, c, "Com_stmt_execute") - before; n != 0 {
		t.Fatalf("dirty session executed %d prepared statements", n)
	}
	if err := c.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(c.stmts.m) != 0 || len(c.stmts.seen) != 0 {
		t.Fatalf("after Reset: %d cached, %d seen", len(c.stmts.m), len(c.stmts.seen))
	}
	for range 3 {
		if res := mustExec(t, c, query); len(res.Rows) != 1 {
			t.Fatalf("rows after reset = %v", res.Rows)
		}
	}
	if c.stmts.m[query] == nil {
		t.Fatal("not cached again after the reset")
	}
}

func TestPreparable(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT 1": true, "  select * from t": true, "with x as (select 1) select * from x": true,
		"INSERT INTO t VALUES (1)": true, "update t set v=1": true, "Delete from t": true, "REPLACE t VALUES (1)": true,
		"SET @x=1": false, "CALL p()": false, "(SELECT 1)": false, "/* c */ SELECT 1": false, "SELECTX": false,
		"BEGIN": false, "": false, "DESCRIBE t": false,
	} {
		if got := preparable(sql); got != want {
			t.Errorf("preparable(%q) = %v, want %v", sql, got, want)
		}
	}
}

// rows100SQL is a 100-row × 10-column result of mixed types.
const rows100SQL = `SELECT seq AS id, seq*7 AS n1, seq*1000003 AS n2, concat('name-',seq) AS s1, md5(seq) AS s2,
	seq/3.0e0 AS f1, CAST(seq*1.25 AS DECIMAL(10,2)) AS d1, timestamp '2024-01-02 03:04:05' + interval seq minute AS t1,
	seq%2=0 AS b1, repeat('x', seq%40) AS s3 FROM seq_1_to_100`

func BenchmarkExecSelect1(b *testing.B) { benchExec(b, "SELECT 1", 1) }
func BenchmarkExecRows100(b *testing.B) { benchExec(b, rows100SQL, 100) }

// benchExec runs sql on one connection (through the statement cache from
// its second run on).
func benchExec(b *testing.B, sql string, rows int) {
	cfg := testDSN(b)
	e := New(Config{Address: cfg.Addr, ConnectTimeout: 5 * time.Second})
	cn, err := e.Connect(b.Context(), engine.Credentials{User: cfg.User, Password: cfg.Passwd, Database: cfg.DBName})
	if err != nil {
		b.Fatal(err)
	}
	defer cn.Close()
	b.ReportAllocs()
	for b.Loop() {
		res, err := cn.Exec(b.Context(), sql, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) != rows {
			b.Fatalf("%d rows", len(res.Rows))
		}
	}
}
