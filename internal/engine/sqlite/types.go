package sqlite

import (
	"strconv"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// class is how a declared column type shapes the Field of a value. SQLite
// stores values by their own type (type affinity, sqlite.org/datatype3.html),
// so the runtime value decides the Field except for the classes below.
type class uint8

const (
	classValue    class = iota // the runtime type: int64 → long, float64 → double, string, []byte → blob
	classBool                  // BOOLEAN: integers → booleanValue
	classDecimal               // DECIMAL/NUMERIC: stringValue, marked Decimal
	classDateTime              // DATE/DATETIME/TIMESTAMP/TIME: stringValue
)

// declared splits a declared type "VARCHAR(200)" into its upper-case name
// and the numbers in parentheses.
func declared(decl string) (name string, mods []int32) {
	name = strings.ToUpper(strings.TrimSpace(decl))
	if i := strings.IndexByte(name, '('); i >= 0 {
		for _, m := range strings.Split(strings.TrimSuffix(name[i+1:], ")"), ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(m), 10, 32)
			if err != nil {
				break
			}
			mods = append(mods, int32(n))
		}
		name = strings.TrimSpace(name[:i])
	}
	return name, mods
}

func classOf(name string) class {
	switch {
	case strings.Contains(name, "BOOL"):
		return classBool
	case name == "DATE" || name == "DATETIME" || name == "TIMESTAMP" || name == "TIME":
		return classDateTime
	case strings.HasPrefix(name, "DECIMAL") || strings.HasPrefix(name, "NUMERIC"):
		return classDecimal
	}
	return classValue
}

// jdbcType maps a declared type name to a java.sql.Types code following
// SQLite's affinity rules, with the common names refined the way
// sqlite-jdbc reports them.
func jdbcType(name string) int32 {
	switch {
	case name == "":
		return 0 // java.sql.Types.NULL: an expression without a value
	case strings.Contains(name, "BOOL"):
		return engine.JDBCBoolean
	case name == "TINYINT":
		return engine.JDBCTinyInt
	case name == "SMALLINT" || name == "INT2":
		return engine.JDBCSmallInt
	case name == "BIGINT" || name == "INT8" || name == "UNSIGNED BIG INT":
		return engine.JDBCBigInt
	case strings.Contains(name, "INT"):
		return engine.JDBCInteger
	case name == "DATE":
		return engine.JDBCDate
	case name == "TIME":
		return engine.JDBCTime
	case name == "DATETIME" || name == "TIMESTAMP":
		return engine.JDBCTimestamp
	case strings.HasPrefix(name, "DECIMAL"):
		return engine.JDBCDecimal
	case name == "CHAR" || name == "CHARACTER" || name == "NCHAR":
		return engine.JDBCChar
	case strings.Contains(name, "CHAR") || strings.Contains(name, "TEXT"):
		return engine.JDBCVarchar
	case strings.Contains(name, "CLOB"):
		return engine.JDBCClob
	case strings.Contains(name, "BLOB"):
		return engine.JDBCBlob
	case strings.Contains(name, "REAL"):
		return engine.JDBCReal
	case strings.Contains(name, "FLOA"):
		return engine.JDBCFloat
	case strings.Contains(name, "DOUB"):
		return engine.JDBCDouble
	default: // NUMERIC affinity
		return engine.JDBCNumeric
	}
}

// runtimeType names the storage class of v, for expression columns that
// have no declared type.
func runtimeType(v any) string {
	switch v.(type) {
	case int64:
		return "INTEGER"
	case float64:
		return "REAL"
	case string:
		return "TEXT"
	case []byte:
		return "BLOB"
	}
	return ""
}

// column builds the metadata of a result column from its declared type
// (empty for expressions, then named after the first non-NULL value).
func column(name, decl string) engine.Column {
	typeName, mods := declared(decl)
	col := engine.Column{Name: name, Label: name, TypeName: typeName, Type: jdbcType(typeName), Nullable: 2}
	if len(mods) > 0 {
		col.Precision = mods[0]
	}
	if len(mods) > 1 {
		col.Scale = mods[1]
	}
	switch col.Type {
	case engine.JDBCTinyInt, engine.JDBCSmallInt, engine.JDBCInteger, engine.JDBCBigInt,
		engine.JDBCReal, engine.JDBCFloat, engine.JDBCDouble, engine.JDBCDecimal, engine.JDBCNumeric:
		col.IsSigned = true
	case engine.JDBCChar, engine.JDBCVarchar, engine.JDBCClob:
		col.IsCaseSensitive = true
	}
	return col
}

// value converts one scanned value of a column of class cl.
func value(v any, cl class, dateOnly bool) engine.Value {
	switch v := v.(type) {
	case nil:
		return engine.Null()
	case int64:
		switch cl {
		case classBool:
			return engine.Bool(v != 0)
		case classDecimal, classDateTime:
			return engine.String(strconv.FormatInt(v, 10))
		}
		return engine.Long(v)
	case float64:
		switch cl {
		case classBool:
			return engine.Bool(v != 0)
		case classDecimal, classDateTime:
			return engine.String(strconv.FormatFloat(v, 'f', -1, 64))
		}
		return engine.Double(v)
	case string:
		return engine.String(v)
	case []byte:
		if v == nil {
			v = []byte{} // a zero-length blob, not NULL
		}
		return engine.Blob(v)
	case bool:
		return engine.Bool(v)
	case time.Time:
		return engine.String(formatTime(v, dateOnly))
	}
	return engine.Null()
}

// formatTime prints a DATE/DATETIME/TIMESTAMP value the driver parsed from
// its text. The driver hides the stored text, so the value is printed in
// the Data API's format instead: "YYYY-MM-DD" for a DATE at midnight, else
// "YYYY-MM-DD HH:MM:SS[.frac]" in UTC with no fraction when zero,
// milliseconds when enough, microseconds otherwise.
func formatTime(t time.Time, dateOnly bool) string {
	var buf [64]byte
	return string(appendTime(buf[:0], t, dateOnly))
}

// appendTime appends formatTime's text.
func appendTime(dst []byte, t time.Time, dateOnly bool) []byte {
	t = t.UTC()
	if dateOnly && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.AppendFormat(dst, "2006-01-02")
	}
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05")
	switch us := t.Nanosecond() / 1000; {
	case us == 0:
	case us%1000 == 0:
		dst = appendPadded(append(dst, '.'), us/1000, 3)
	default:
		dst = appendPadded(append(dst, '.'), us, 6)
	}
	return dst
}

// appendPadded appends n (0 <= n < 10^width) in width digits.
func appendPadded(dst []byte, n, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// Lazily decoded results (engine.Cells).
//
// The driver hands every value over boxed (database/sql's any); decoding
// them all eagerly adds one engine.Value per cell, a large
// pointer-holding slab the caller reads once to encode it. When Exec's
// context asks for engine.Cells, read keeps the scanned values instead and
// cells decodes each one as the caller encodes it — through value, the
// same mapping as the eager path.

// cells is a result set as the driver returned it: rows of scanned
// values, one slab, row-major.
type cells struct {
	vals     []any
	nrows    int
	classes  []class
	dateOnly []bool // per column: declared DATE
}

var _ engine.Cells = (*cells)(nil)

func (c *cells) Len() int { return c.nrows }

func (c *cells) Value(row, col int) (engine.Value, error) {
	return value(c.vals[row*len(c.classes)+col], c.classes[col], c.dateOnly[col]), nil
}

// textLen is len(v.String) + len(v.Blob) for the Value value(v, cl,
// dateOnly) gives, without building it: read counts it toward the result
// size limit either way.
func textLen(v any, cl class, dateOnly bool) int {
	var buf [64]byte
	switch v := v.(type) {
	case int64:
		if cl == classDecimal || cl == classDateTime {
			return len(strconv.AppendInt(buf[:0], v, 10))
		}
	case float64:
		if cl == classDecimal || cl == classDateTime {
			return len(strconv.AppendFloat(buf[:0], v, 'f', -1, 64))
		}
	case string:
		return len(v)
	case []byte:
		return len(v)
	case time.Time:
		return len(appendTime(buf[:0], v, dateOnly))
	}
	return 0
}
