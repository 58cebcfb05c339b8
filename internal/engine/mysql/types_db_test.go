package mysql

import (
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// typeCase is one column type: its DDL, a literal to insert, and the Value
// and metadata the Data API returns (docs/dataapi.md, Results).
type typeCase struct {
	ddl, literal string
	want         engine.Value
	typeName     string
	jdbc         int32
	precision    int32
	scale        int32
	signed       bool
	decimal      bool
}

var typeCases = []typeCase{
	{"BOOL", "TRUE", engine.Bool(true), "BIT", engine.JDBCBit, 1, 0, true, false},
	{"TINYINT(1)", "0", engine.Bool(false), "BIT", engine.JDBCBit, 1, 0, true, false},
	{"BIT", "b'1'", engine.Bool(true), "BIT", engine.JDBCBit, 1, 0, false, false},
	{"BIT(8)", "b'101'", engine.Bool(true), "BIT", engine.JDBCBit, 8, 0, false, false},
	{"BIT(8)", "b'0'", engine.Bool(false), "BIT", engine.JDBCBit, 8, 0, false, false},
	{"TINYINT", "-128", engine.Long(-128), "TINYINT", engine.JDBCTinyInt, 4, 0, true, false},
	{"TINYINT UNSIGNED", "255", engine.Long(255), "TINYINT UNSIGNED", engine.JDBCTinyInt, 3, 0, false, false},
	{"SMALLINT", "-32768", engine.Long(-32768), "SMALLINT", engine.JDBCSmallInt, 6, 0, true, false},
	{"SMALLINT UNSIGNED", "65535", engine.Long(65535), "SMALLINT UNSIGNED", engine.JDBCSmallInt, 5, 0, false, false},
	{"MEDIUMINT", "-8388608", engine.Long(-8388608), "MEDIUMINT", engine.JDBCInteger, 9, 0, true, false},
	{"MEDIUMINT UNSIGNED", "16777215", engine.Long(16777215), "MEDIUMINT UNSIGNED", engine.JDBCInteger, 8, 0, false, false},
	{"INT", "-2147483648", engine.Long(-2147483648), "INT", engine.JDBCInteger, 11, 0, true, false},
	{"INT UNSIGNED", "4294967295", engine.Long(4294967295), "INT UNSIGNED", engine.JDBCInteger, 10, 0, false, false},
	{"BIGINT", "-9223372036854775808", engine.Long(-9223372036854775808), "BIGINT", engine.JDBCBigInt, 20, 0, true, false},
	{"BIGINT UNSIGNED", "9223372036854775807", engine.Long(9223372036854775807), "BIGINT UNSIGNED", engine.JDBCBigInt, 20, 0, false, false},
	{"BIGINT UNSIGNED", "18446744073709551615", engine.String("18446744073709551615"), "BIGINT UNSIGNED", engine.JDBCBigInt, 20, 0, false, false},
	{"FLOAT", "1.1", engine.Double(1.1), "FLOAT", engine.JDBCReal, 12, 0, true, false},
	{"FLOAT", "123", engine.Double(123), "FLOAT", engine.JDBCReal, 12, 0, true, false},
	{"DOUBLE", "1.7976931348623157E308", engine.Double(1.7976931348623157e308), "DOUBLE", engine.JDBCDouble, 22, 0, true, false},
	{"DECIMAL(10,4)", "123456.789", engine.String("123456.7890"), "DECIMAL", engine.JDBCDecimal, 10, 4, true, true},
	{"DECIMAL(5,2)", "0.1", engine.String("0.10"), "DECIMAL", engine.JDBCDecimal, 5, 2, true, true},
	{"DECIMAL(10,0) UNSIGNED", "42", engine.String("42"), "DECIMAL UNSIGNED", engine.JDBCDecimal, 10, 0, false, true},
	{"CHAR(10)", "'ab'", engine.String("ab"), "CHAR", engine.JDBCChar, 10, 0, false, false},
	{"VARCHAR(100)", "'héllo'", engine.String("héllo"), "VARCHAR", engine.JDBCVarchar, 100, 0, false, false},
	{"TINYTEXT", "'t'", engine.String("t"), "TINYTEXT", engine.JDBCVarchar, 255, 0, false, false},
	{"TEXT", "'t'", engine.String("t"), "TEXT", engine.JDBCLongVarchar, 65535, 0, false, false},
	{"MEDIUMTEXT", "'t'", engine.String("t"), "MEDIUMTEXT", engine.JDBCLongVarchar, 16777215, 0, false, false},
	{"LONGTEXT", "'t'", engine.String("t"), "LONGTEXT", engine.JDBCLongVarchar, 1073741823, 0, false, false},
	{"ENUM('a','b')", "'b'", engine.String("b"), "ENUM", engine.JDBCChar, 1, 0, false, false},
	{"SET('a','b')", "'a,b'", engine.String("a,b"), "SET", engine.JDBCChar, 3, 0, false, false},
	{"JSON", `'{"a": 1}'`, engine.String(`{"a": 1}`), "LONGTEXT", engine.JDBCLongVarchar, 1073741823, 0, false, false},
	{"BINARY(4)", "'ab'", engine.Blob([]byte("ab\x00\x00")), "BINARY", engine.JDBCBinary, 4, 0, false, false},
	{"VARBINARY(10)", "x'00ff'", engine.Blob([]byte{0, 0xff}), "VARBINARY", engine.JDBCVarbinary, 10, 0, false, false},
	{"TINYBLOB", "'b'", engine.Blob([]byte("b")), "TINYBLOB", engine.JDBCVarbinary, 255, 0, false, false},
	{"BLOB", "'b'", engine.Blob([]byte("b")), "BLOB", engine.JDBCLongVarbinary, 65535, 0, false, false},
	{"MEDIUMBLOB", "'b'", engine.Blob([]byte("b")), "MEDIUMBLOB", engine.JDBCLongVarbinary, 16777215, 0, false, false},
	{"LONGBLOB", "'b'", engine.Blob([]byte("b")), "LONGBLOB", engine.JDBCLongVarbinary, 2147483647, 0, false, false},
	{"DATE", "'2021-03-04'", engine.String("2021-03-04"), "DATE", engine.JDBCDate, 10, 0, false, false},
	{"TIME", "'12:34:56'", engine.String("12:34:56"), "TIME", engine.JDBCTime, 10, 0, false, false},
	{"TIME(6)", "'12:34:56.789012'", engine.String("12:34:56.789012"), "TIME", engine.JDBCTime, 17, 0, false, false},
	{"DATETIME", "'2019-11-12 22:00:11'", engine.String("2019-11-12 22:00:11"), "DATETIME", engine.JDBCTimestamp, 19, 0, false, false},
	{"DATETIME(6)", "'9999-12-31 23:59:59.999999'", engine.String("9999-12-31 23:59:59.999999"), "DATETIME", engine.JDBCTimestamp, 26, 0, false, false},
	{"DATETIME(3)", "'2022-01-01 00:00:00'", engine.String("2022-01-01 00:00:00.000"), "DATETIME", engine.JDBCTimestamp, 23, 0, false, false},
	{"TIMESTAMP", "'2019-11-12 22:00:11'", engine.String("2019-11-12 22:00:11"), "TIMESTAMP", engine.JDBCTimestamp, 19, 0, false, false},
	{"TIMESTAMP(6)", "'2019-11-12 22:00:11.5'", engine.String("2019-11-12 22:00:11.500000"), "TIMESTAMP", engine.JDBCTimestamp, 26, 0, false, false},
	{"YEAR", "2021", engine.String("2021"), "YEAR", engine.JDBCDate, 4, 0, false, false},
}

func TestConn_ExecTypes(t *testing.T) {
	c := connect(t)
	for _, tc := range typeCases {
		t.Run(tc.ddl+"="+tc.literal, func(t *testing.T) {
			tbl := table(t, c, "types")
			mustExec(t, c, "CREATE TABLE "+tbl+" (v "+tc.ddl+" NOT NULL, n "+tc.ddl+" NULL)")
			mustExec(t, c, "INSERT INTO "+tbl+" VALUES ("+tc.literal+", NULL)")
			res := mustExec(t, c, "SELECT v, n AS alias FROM "+tbl)
			if len(res.Rows) != 1 {
				t.Fatalf("rows = %v", res.Rows)
			}
			if got := res.Rows[0][0]; !equalValue(got, tc.want) {
				t.Errorf("value = %+v, want %+v", got, tc.want)
			}
			if got := res.Rows[0][1]; got.Kind != engine.KindNull {
				t.Errorf("NULL value = %+v", got)
			}
			want := engine.Column{Name: "v", Label: "v", TypeName: tc.typeName, Type: tc.jdbc, Precision: tc.precision,
				Scale: tc.scale, Nullable: 0, IsSigned: tc.signed, TableName: tbl}
			got := res.Columns[0]
			got.IsCaseSensitive = false
			if got != want {
				t.Errorf("column = %+v\n           want %+v", got, want)
			}
			if n := res.Columns[1]; n.Nullable != 1 || n.Label != "alias" || n.TypeName != tc.typeName {
				t.Errorf("nullable column = %+v", n)
			}
			if res.Decimal[0] != tc.decimal {
				t.Errorf("Decimal = %v, want %v", res.Decimal[0], tc.decimal)
			}
		})
	}
}

func TestConn_ExecParams(t *testing.T) {
	c := connect(t)
	tbl := table(t, c, "params")
	mustExec(t, c, "CREATE TABLE "+tbl+` (id INT, b BOOL, l BIGINT, d DOUBLE, s VARCHAR(50), bl VARBINARY(10),
		dt DATE, tm TIME(3), ts DATETIME(6), dec_ DECIMAL(10,2), j JSON, u CHAR(36), nul INT)`)
	params := []engine.Param{
		{Name: "id", Value: engine.Long(1)},
		{Name: "b", Value: engine.Bool(true)},
		{Name: "l", Value: engine.Long(-9223372036854775808)},
		{Name: "d", Value: engine.Double(0.5)},
		{Name: "s", Value: engine.String(`it's a \ "test" ?`)},
		{Name: "bl", Value: engine.Blob([]byte{0, '\'', '\\', 0xff})},
		{Name: "dt", Value: engine.String("2021-03-04"), Hint: engine.HintDate},
		{Name: "tm", Value: engine.String("12:34:56.789"), Hint: engine.HintTime},
		{Name: "ts", Value: engine.String("2021-03-04 12:34:56.123456"), Hint: engine.HintTimestamp},
		{Name: "dec", Value: engine.String("123.45"), Hint: engine.HintDecimal},
		{Name: "j", Value: engine.String(`{"k": [1, 2]}`), Hint: engine.HintJSON},
		{Name: "u", Value: engine.String("6f9619ff-8b86-d011-b42d-00c04fc964ff"), Hint: engine.HintUUID},
		{Name: "nul", Value: engine.Null()},
	}
	res := mustExec(t, c, "INSERT INTO "+tbl+" VALUES (:id, :b, :l, :d, :s, :bl, :dt, :tm, :ts, :dec, :j, :u, :nul)", params...)
	if res.RowsAffected != 1 {
		t.Fatalf("insert = %+v", res)
	}
	want := []engine.Value{engine.Long(1), engine.Bool(true), engine.Long(-9223372036854775808), engine.Double(0.5),
		engine.String(`it's a \ "test" ?`), engine.Blob([]byte{0, '\'', '\\', 0xff}), engine.String("2021-03-04"),
		engine.String("12:34:56.789"), engine.String("2021-03-04 12:34:56.123456"), engine.String("123.45"),
		engine.String(`{"k": [1, 2]}`), engine.String("6f9619ff-8b86-d011-b42d-00c04fc964ff"), engine.Null()}
	res = mustExec(t, c, "SELECT * FROM "+tbl+" WHERE id = :id AND s = :s", params...)
	if len(res.Rows) != 1 || !equalRow(res.Rows[0], want) {
		t.Fatalf("rows = %+v\nwant %+v", res.Rows, want)
	}
	// A '?' of the statement's own forces the prepared-statement path.
	res = mustExec(t, c, "SELECT '?' AS q, s, :id + 1 FROM "+tbl+" WHERE s = :s /* ? */", params...)
	if len(res.Rows) != 1 || !equalRow(res.Rows[0], []engine.Value{engine.String("?"), want[4], engine.Long(2)}) {
		t.Fatalf("prepared rows = %+v", res.Rows)
	}
	// Repeated names bind the same value at each marker; unused params are ignored.
	res = mustExec(t, c, "SELECT :x, :x + 1, 1 > 0", engine.Param{Name: "x", Value: engine.Long(5)}, engine.Param{Name: "unused", Value: engine.String("u")})
	if !equalRow(res.Rows[0], []engine.Value{engine.Long(5), engine.Long(6), engine.Long(1)}) {
		t.Fatalf("repeated rows = %+v", res.Rows)
	}
}

// TestColumnDefinitions checks the column definition fields the mapping
// needs (display width, flags, decimals, collation) arrive from the server.
func TestColumnDefinitions(t *testing.T) {
	c := connect(t)
	rows, err := c.cl.Query("SELECT CAST(1 AS UNSIGNED) AS a, CAST(1.5 AS DECIMAL(5,2)) AS d, _binary'x' AS b")
	if err != nil {
		t.Fatal(err)
	}
	var fields []field
	for i := range rows.Columns {
		fields = append(fields, fieldOf(&rows.Columns[i]))
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 3 || fields[0].name != "a" || !fields[0].unsigned() || fields[0].length == 0 ||
		fields[1].decimals != 2 || !fields[2].binary() || fields[1].binary() && fields[1].typ != typeNewDecimal {
		t.Fatalf("fields = %+v", fields)
	}
}
