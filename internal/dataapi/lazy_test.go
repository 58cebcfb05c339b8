package dataapi

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/mysql"
	"github.com/sqlgate/sqlgate/internal/engine/postgres"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// The lazily decoded path (engine.WithLazyDecode, Result.Cells) must encode
// every response byte for byte as the eager one (Result.Rows): these tests
// run the same statements both ways on the real databases and compare the
// encoded responses, under every result option.

func pgConn(tb testing.TB) engine.Conn {
	tb.Helper()
	u, err := url.Parse(testdb.PGURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	pw, _ := u.User.Password()
	e := postgres.New(postgres.Config{Address: u.Host, ConnectTimeout: 5 * time.Second})
	c, err := e.Connect(context.Background(), engine.Credentials{User: u.User.Username(), Password: pw, Database: strings.TrimPrefix(u.Path, "/")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func mysqlConn(tb testing.TB) engine.Conn {
	tb.Helper()
	cfg, err := gomysql.ParseDSN(testdb.MySQLDSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	e := mysql.New(mysql.Config{Address: cfg.Addr, ConnectTimeout: 5 * time.Second})
	c, err := e.Connect(context.Background(), engine.Credentials{User: cfg.User, Password: cfg.Passwd, Database: cfg.DBName})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// mysqlTypes are the MariaDB column types the Data API maps, each with two
// values that exercise its formatting rules (a third row is all NULL).
var mysqlTypes = []struct{ ddl, a, b string }{
	{"BOOL", "TRUE", "FALSE"}, {"BIT(1)", "b'1'", "b'0'"}, {"BIT(8)", "b'101'", "b'0'"},
	{"TINYINT", "-128", "0"}, {"TINYINT UNSIGNED", "255", "7"}, {"SMALLINT", "-32768", "32767"},
	{"MEDIUMINT UNSIGNED", "16777215", "1"}, {"INT", "-2147483648", "2147483647"}, {"INT(5) ZEROFILL", "42", "0"},
	{"BIGINT", "-9223372036854775808", "9223372036854775807"}, {"BIGINT", "-999999999999999999", "100000000000000000"},
	{"BIGINT UNSIGNED", "18446744073709551615", "9223372036854775807"},
	{"FLOAT", "1.1", "-3.4e38"}, {"DOUBLE", "1.7976931348623157E308", "1e-4"}, {"DOUBLE", "0.001", "1e7"},
	{"DECIMAL(10,4)", "123456.789", "-0.1"}, {"DECIMAL(30,0) UNSIGNED", "123456789012345678901234567890", "0"},
	{"CHAR(10)", "'ab'", "''"}, {"VARCHAR(100)", `'quote" back\\slash \n\t\r\b é 邓 😀'`, `'\0 \Z'`},
	{"TEXT", "'t'", "''"}, {"ENUM('a','b')", "'b'", "'a'"}, {"SET('a','b')", "'a,b'", "''"},
	{"JSON", `'{"a": [1, "x\\"y"]}'`, "'null'"}, {"BINARY(4)", "'ab'", "''"}, {"VARBINARY(10)", "x'00ff'", "''"},
	{"BLOB", "'b'", "x'e282ac'"}, {"DATE", "'2021-03-04'", "'0000-00-00'"}, {"TIME(6)", "'-838:59:59.000000'", "'12:34:56.789'"},
	{"DATETIME", "'2019-11-12 22:00:11'", "'1000-01-01 00:00:00'"}, {"DATETIME(3)", "'2022-01-01 00:00:00.5'", "'2022-01-01'"},
	{"TIMESTAMP(6)", "'2019-11-12 22:00:11.5'", "'2038-01-19 03:14:07.999999'"}, {"YEAR", "2021", "0"},
}

func TestLazy_SameResponse_MySQL(t *testing.T) {
	c := mysqlConn(t)
	ctx := context.Background()
	tbl := "lazy_types_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "_")
	var cols, a, b, nulls []string
	for i, ty := range mysqlTypes {
		name := "c" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		cols = append(cols, name+" "+ty.ddl+" NULL")
		a, b, nulls = append(a, ty.a), append(b, ty.b), append(nulls, "NULL")
	}
	for _, sql := range []string{"SET sql_mode = ''", "CREATE TABLE " + tbl + " (" + strings.Join(cols, ", ") + ")",
		"INSERT INTO " + tbl + " VALUES (" + strings.Join(a, ",") + "), (" + strings.Join(b, ",") + "), (" + strings.Join(nulls, ",") + ")"} {
		if _, err := c.Exec(ctx, sql, nil, 0); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() { _, _ = c.Exec(ctx, "DROP TABLE "+tbl, nil, 0) })
	if err := c.Reset(ctx); err != nil { // a clean session, so statements get cached
		t.Fatal(err)
	}
	// Repeated: the first runs go as text, later ones through the
	// statement cache (binary rows rendered as text).
	for range 3 {
		for _, sql := range []string{"SELECT * FROM " + tbl, "SELECT 1", "SELECT NULL, 1.5, 'x', CAST(1 AS UNSIGNED) WHERE 1 = 0"} {
			sameBothWays(t, c, sql)
		}
		res, err := c.Exec(engine.WithLazyDecode(ctx), "SELECT * FROM "+tbl, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out, err := encodeExecute(res, false, options{}, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			`[{"booleanValue":true},{"booleanValue":true},{"booleanValue":true},{"longValue":-128},{"longValue":255},{"longValue":-32768}`,
			`{"longValue":42},{"longValue":-9223372036854775808},{"longValue":-999999999999999999},{"stringValue":"18446744073709551615"},{"doubleValue":1.1}`,
			`{"stringValue":"quote\" back\\slash \n\t\r\b é 邓 😀"}`, `{"stringValue":"\u0000 \u001a"}`,
			`{"stringValue":"{\"a\": [1, \"x\\\"y\"]}"}`, `{"blobValue":"YWIAAA=="},{"blobValue":"AP8="}`,
			`{"stringValue":"-838:59:59.000000"}`, `{"stringValue":"2022-01-01 00:00:00.500"}`, `{"stringValue":"2021"}]`,
			`{"longValue":0},{"longValue":9223372036854775807},{"longValue":100000000000000000},{"longValue":9223372036854775807}`, `{"stringValue":"0000"}]`,
			`{"doubleValue":1.7976931348623157E308},{"doubleValue":0.001}`, `{"doubleValue":1.0E-4},{"doubleValue":1.0E7}`,
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("response lacks %s\n%s", want, out)
			}
		}
	}
}

// pgTypesSQL selects one column of every type the PostgreSQL engine maps,
// over three rows: a NULL row, and two with values that exercise each
// type's formatting rules.
const pgTypesSQL = `SELECT v.* FROM (VALUES
 (NULL::bool, NULL::int2, NULL::int4, NULL::int8, NULL::float4, NULL::float8, NULL::numeric, NULL::text, NULL::varchar,
  NULL::bpchar, NULL::bytea, NULL::date, NULL::time, NULL::timestamp, NULL::timestamptz, NULL::json, NULL::jsonb, NULL::uuid,
  NULL::bit(1), NULL::varbit::text, NULL::int4[], NULL::text[], NULL::float8[], NULL::bool[], NULL::numeric[], NULL::timestamp[],
  NULL::oid, NULL::name, NULL::inet),
 (true, '-32768'::int2, 2147483647, '-9223372036854775808'::int8, 1.5::float4, 'NaN'::float8, 123456789012345678901234567890.000123,
  E'quote" back\\slash \n\t\r\b\f \x01 \u2028 ünïcödé 邓 😀', 'v', 'c  ', '\x00ff10'::bytea, '2024-02-29', '23:59:59.5',
  '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.1+02', '{"a": [1, "x\"y"], "b": null}', '{"b": 2, "a": "é"}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', B'1', '1010', '{1,NULL,-3}', '{"a b",NULL,"c\"d","e\\f",""}', '{1.5,NaN,Infinity,-Infinity,1e300}',
  '{t,f,NULL}', '{1.10,NULL,-2}', '{"2024-01-02 03:04:05.06"}', 42, 'nm', '10.0.0.1/8'),
 (false, 0::int2, 0, 1, 'Infinity'::float4, '-Infinity'::float8, 0.5, '', 'ünï', '', ''::bytea, '0044-03-15 BC', '00:00:00',
  '2024-01-02 03:04:05', '1999-12-31 23:59:59.999999+00', '[]', 'null', '00000000-0000-0000-0000-000000000000',
  B'0', '', '{}', '{}', '{1e-5,12345678.9,0.001}', '{}', '{}', '{}', 0, '', '::1')
) AS v(b, i2, i4, i8, f4, f8, num, txt, vc, bp, by, d, tm, ts, tstz, js, jsb, u, bit1, vb, ia, ta, fa, ba, na, tsa, o, nm, ip)`

func TestLazy_SameResponse_PG(t *testing.T) {
	c := pgConn(t)
	for _, sql := range []string{pgTypesSQL, "SELECT 1", "SELECT FROM generate_series(1,3)", "SELECT 1 WHERE false",
		"SELECT NULL", "SELECT pg_sleep(0)", "SELECT 1.0e10::float8 AS a, 1e-4::float8 AS a2, 9999999::float8 AS b, 12.5::float4 AS c",
		pgFloatsSQL} {
		t.Run(sql[:min(len(sql), 30)], func(t *testing.T) { sameBothWays(t, c, sql) })
	}
}

// pgFloatsSQL is float8 values as PostgreSQL prints them (the lazy path
// copies their digits, the eager one parses them): ratios with 16–17
// digits, wide magnitudes, subnormals and the edges of the fixed notation.
const pgFloatsSQL = `SELECT hashint8(g)::float8 / hashint8(g + 100000)::float8 AS ratio,
	(hashint8(g)::float8 / 9.3e18) * power(10::float8, (abs(hashint8(g + 200000)) % 600) - 300) AS wide,
	hashint4(g)::float8 * 4.9e-324 AS sub, g::float8 / 7 AS seventh, 1e-3::float8 * (1 + g * 1e-15) AS low,
	1e7::float8 - g * 1e-9 AS high, power(10::float8, g % 40 - 20) AS pow10, -g::float8 / 3e5 AS neg
	FROM generate_series(1, 20000) g
	UNION ALL SELECT 0, '-0', 'NaN', 'Infinity', '-Infinity', 1.7976931348623157e308, 2.2250738585072014e-308, 5e-324`

// sameBothWays runs sql eagerly and lazily and compares the encoded
// responses under each result option.
func sameBothWays(t *testing.T, c engine.Conn, sql string) {
	t.Helper()
	ctx := context.Background()
	eager, err := c.Exec(ctx, sql, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if eager.Cells != nil {
		t.Fatal("eager Exec returned Cells")
	}
	lazy, err := c.Exec(engine.WithLazyDecode(ctx), sql, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if lazy.Cells == nil && lazy.HasResultSet {
		t.Fatal("lazy Exec returned no Cells")
	}
	opts := []options{{}, {json: true}, {mapOptions: mapOptions{longAsString: true, decimalAsNumber: true}},
		{json: true, mapOptions: mapOptions{longAsString: true, decimalAsNumber: true}}}
	for _, o := range opts {
		for _, meta := range []bool{false, true} {
			want, werr := encodeExecute(eager, meta, o, 1<<20)
			got, gerr := encodeExecute(lazy, meta, o, 1<<20)
			if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Fatalf("%+v meta=%v: errors differ: eager %v, lazy %v", o, meta, werr, gerr)
			}
			if string(got) != string(want) {
				t.Fatalf("%+v meta=%v: responses differ\neager: %s\n lazy: %s", o, meta, want, got)
			}
		}
	}
	if err := lazy.Materialize(); err != nil {
		t.Fatal(err)
	}
	if lazy.Cells != nil || len(lazy.Rows) != len(eager.Rows) {
		t.Fatalf("Materialize: %d rows, want %d", len(lazy.Rows), len(eager.Rows))
	}
}

// TestLazy_Golden pins a few of pgTypesSQL's encoded values, so the two
// paths cannot agree on something wrong.
func TestLazy_Golden(t *testing.T) {
	c := pgConn(t)
	res, err := c.Exec(engine.WithLazyDecode(context.Background()), pgTypesSQL, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeExecute(res, false, options{}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// The kinds the text path serves (row 1: b, i2, f4, f8, num).
	tc := res.Cells.(engine.TextCells)
	for col, want := range map[int]engine.Kind{0: engine.KindBool, 1: engine.KindLong, 5: engine.KindDouble, 6: engine.KindString} {
		if k, _, ok := tc.Text(1, col); !ok || k != want {
			t.Errorf("Text(1, %d) = %v, %v; want kind %v", col, k, ok, want)
		}
	}
	if _, _, ok := tc.Text(1, 4); ok {
		t.Error("Text answered for float4")
	}
	for _, want := range []string{
		`[{"isNull":true},{"isNull":true},`,
		`{"booleanValue":true},{"longValue":-32768},{"longValue":2147483647},{"longValue":-9223372036854775808},{"doubleValue":1.5},{"doubleValue":"NaN"}`,
		`{"stringValue":"123456789012345678901234567890.000123"}`,
		`{"stringValue":"quote\" back\\slash \n\t\r\b\f \u0001 \u2028 ünïcödé 邓 😀"}`,
		`{"blobValue":"AP8Q"}`, `{"stringValue":"2024-02-29"}`, `{"stringValue":"23:59:59.500"}`,
		`{"stringValue":"2024-01-02 03:04:05.123456"}`, `{"stringValue":"2024-01-02 01:04:05.100"}`,
		`{"stringValue":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}`, `{"booleanValue":true},{"stringValue":"1010"}`,
		`{"arrayValue":{"longValues":[1,null,-3]}}`, `{"arrayValue":{"stringValues":["a b",null,"c\"d","e\\f",""]}}`,
		`{"arrayValue":{"doubleValues":[1.5,"NaN","Infinity","-Infinity",1.0E300]}}`,
		`{"arrayValue":{"booleanValues":[true,false,null]}}`, `{"arrayValue":{"stringValues":["1.10",null,"-2"]}}`,
		`{"arrayValue":{"stringValues":["2024-01-02 03:04:05.060"]}}`,
		`{"doubleValue":"Infinity"},{"doubleValue":"-Infinity"}`, `{"stringValue":"0044-03-15 BC"}`,
		`{"stringValue":"1999-12-31 23:59:59.999999"}`, `{"blobValue":""}`, `{"arrayValue":{"longValues":[]}}`,
		`{"arrayValue":{"doubleValues":[1.0E-5,1.23456789E7,0.001]}}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("response lacks %s\n%s", want, b)
		}
	}
}

// TestLazy_Errors: a value the Data API cannot represent fails the call the
// same way whether it is found by Exec (eager) or while encoding (lazy).
func TestLazy_Errors(t *testing.T) {
	c := pgConn(t)
	ctx := context.Background()
	const sql = `SELECT '{{1,2},{3,4}}'::int4[] AS m`
	_, eerr := c.Exec(ctx, sql, nil, 0)
	res, err := c.Exec(engine.WithLazyDecode(ctx), sql, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, lerr := encodeExecute(res, false, options{}, 1<<20)
	var ue *engine.UnsupportedTypeError
	if !errors.As(eerr, &ue) || !errors.As(lerr, &ue) || eerr.Error() != lerr.Error() {
		t.Fatalf("eager %v, lazy %v: want the same UnsupportedTypeError", eerr, lerr)
	}
	if _, err := encodeExecute(res, false, options{json: true}, 1<<20); err == nil || err.Error() != eerr.Error() {
		t.Fatalf("formatted: %v, want %v", err, eerr)
	}
	res, err = c.Exec(engine.WithLazyDecode(ctx), pgTypesSQL, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encodeExecute(res, false, options{}, 500); !errors.Is(err, engine.ErrResultTooLarge) {
		t.Fatalf("limit: %v, want ErrResultTooLarge", err)
	}
}

// rows100SQL is the 100-row × 10-column result of bench/dataapi_cpu.sh.
const rows100SQL = `SELECT g AS id, g*7 AS n1, g::bigint*1000003 AS n2, 'name-'||g AS s1, md5(g::text) AS s2,
	g/3.0::float8 AS f1, (g*1.25)::numeric(10,2) AS d1, timestamp '2024-01-02 03:04:05' + g * interval '1 minute' AS t1,
	g%2=0 AS b1, repeat('x', g%40) AS s3 FROM generate_series(1,100) g`

// BenchmarkExecEncodeRows100 is ExecuteStatement's engine and encoding
// work for the 100-row result on PostgreSQL, eager (a Value per cell) and
// lazy (decoded while encoding).
func BenchmarkExecEncodeRows100(b *testing.B) {
	for _, db := range []string{"pg", "mysql", "sqlite"} {
		c, sql := pgConn(b), rows100SQL
		switch db {
		case "mysql":
			c, sql = mysqlConn(b), rows100MySQL
		case "sqlite":
			c, sql = sqliteConn(b), rows100SQLite
		}
		benchExecEncode(b, db, c, sql)
	}
}

// rows100MySQL is rows100SQL for MariaDB.
const rows100MySQL = `SELECT seq AS id, seq*7 AS n1, seq*1000003 AS n2, concat('name-',seq) AS s1, md5(seq) AS s2,
	seq/3.0e0 AS f1, cast(seq*1.25 AS decimal(10,2)) AS d1, timestamp '2024-01-02 03:04:05' + interval seq minute AS t1,
	seq%2=0 AS b1, repeat('x', seq%40) AS s3 FROM seq_1_to_100`

// rows100SQLite is rows100SQL for SQLite (a timestamp column is what the
// driver parses; an expression would come back as text).
const rows100SQLite = `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g+1 FROM s WHERE g < 100)
	SELECT g AS id, g*7 AS n1, g*1000003 AS n2, 'name-'||g AS s1, substr(lower(hex(g*1000003))||'0123456789abcdef0123456789abcdef', 1, 32) AS s2, g/3.0 AS f1,
	CAST(g*1.25 AS NUMERIC) AS d1, datetime('2024-01-02 03:04:05', '+'||g||' minutes') AS t1, g%2=0 AS b1,
	substr('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 1, g%40) AS s3 FROM s`

func benchExecEncode(b *testing.B, db string, c engine.Conn, sql string) {
	for _, lazy := range []bool{false, true} {
		name := "eager"
		if lazy {
			name = "lazy"
		}
		b.Run(db+"/"+name, func(b *testing.B) {
			ctx := context.Background()
			if lazy {
				ctx = engine.WithLazyDecode(ctx)
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				res, err := c.Exec(ctx, sql, nil, 0)
				if err != nil {
					b.Fatal(err)
				}
				out, err := encodeExecute(res, false, options{}, 1<<20)
				if err != nil {
					b.Fatal(err)
				}
				putBuf(out)
			}
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkEncodeRows100PG encodes one 100-row PostgreSQL result over
// and over (no database work in the loop): a Value per cell already built
// (eager) or decoded while encoding (lazy).
func BenchmarkEncodeRows100PG(b *testing.B) {
	c := pgConn(b)
	for _, lazy := range []bool{false, true} {
		name := "eager"
		ctx := context.Background()
		if lazy {
			name, ctx = "lazy", engine.WithLazyDecode(ctx)
		}
		res, err := c.Exec(ctx, rows100SQL, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := encodeExecute(res, false, options{}, 1<<20)
				if err != nil {
					b.Fatal(err)
				}
				putBuf(out)
			}
		})
	}
}

// processCPU is this process's user+system CPU time: the benchmark's
// measure, since the database shares the machine and wall time includes
// its work.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
