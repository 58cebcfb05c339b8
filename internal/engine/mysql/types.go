package mysql

// Type mapping: values as the Data API returns them (docs/dataapi.md,
// Results) and column metadata as Connector/J 8 reports it with its
// defaults tinyInt1isBit=true, transformedBitIsBoolean=false.

import (
	"math"
	"strconv"
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// column returns the JDBC metadata of f.
func column(f *field) engine.Column {
	name, jdbc := typeName(f)
	c := engine.Column{
		Name:      f.name,
		Label:     f.name,
		TypeName:  name,
		Type:      jdbc,
		Precision: precision(f),
		Nullable:  1,
		TableName: f.table,
		// SchemaName stays "" as in the Data API's captures.
		IsAutoIncrement: f.flags&flagAutoIncrement != 0,
	}
	if f.flags&flagNotNull != 0 {
		c.Nullable = 0
	}
	switch f.typ {
	case typeTiny, typeShort, typeInt24, typeLong, typeLongLong, typeFloat, typeDouble, typeDecimal, typeNewDecimal:
		c.IsSigned = !f.unsigned()
		if f.decimals < 31 { // 31 = NOT_FIXED_DEC: FLOAT/DOUBLE without (M,D)
			c.Scale = int32(f.decimals)
		}
	case typeVarChar, typeVarString, typeString, typeTinyBlob, typeBlob, typeMediumBlob, typeLongBlob, typeJSON, typeEnum, typeSet:
		c.IsCaseSensitive = f.binary() || binCollations[f.collation]
	}
	return c
}

// binCollations are the common case-sensitive (_bin) collations by id.
var binCollations = map[uint8]bool{46: true, 83: true, 47: true, 65: true, 84: true}

// typeName returns Connector/J's MysqlType name and java.sql.Types code.
func typeName(f *field) (string, int32) {
	u := ""
	if f.unsigned() {
		u = " UNSIGNED"
	}
	switch f.typ {
	case typeDecimal, typeNewDecimal:
		return "DECIMAL" + u, engine.JDBCDecimal
	case typeTiny:
		if f.length == 1 {
			return "BIT", engine.JDBCBit
		}
		return "TINYINT" + u, engine.JDBCTinyInt
	case typeShort:
		return "SMALLINT" + u, engine.JDBCSmallInt
	case typeInt24:
		return "MEDIUMINT" + u, engine.JDBCInteger
	case typeLong:
		return "INT" + u, engine.JDBCInteger
	case typeLongLong:
		return "BIGINT" + u, engine.JDBCBigInt
	case typeFloat:
		return "FLOAT" + u, engine.JDBCReal
	case typeDouble:
		return "DOUBLE" + u, engine.JDBCDouble
	case typeNull:
		return "NULL", 0
	case typeTimestamp:
		return "TIMESTAMP", engine.JDBCTimestamp
	case typeDateTime:
		return "DATETIME", engine.JDBCTimestamp
	case typeDate, typeNewDate:
		return "DATE", engine.JDBCDate
	case typeTime:
		return "TIME", engine.JDBCTime
	case typeYear:
		return "YEAR", engine.JDBCDate
	case typeBit:
		return "BIT", engine.JDBCBit
	case typeJSON:
		return "JSON", engine.JDBCLongVarchar
	case typeEnum:
		return "ENUM", engine.JDBCChar
	case typeSet:
		return "SET", engine.JDBCChar
	case typeTinyBlob, typeBlob, typeMediumBlob, typeLongBlob:
		return blobName(f)
	case typeVarChar, typeVarString:
		if f.binary() {
			return "VARBINARY", engine.JDBCVarbinary
		}
		return "VARCHAR", engine.JDBCVarchar
	case typeString:
		switch {
		case f.flags&flagEnum != 0:
			return "ENUM", engine.JDBCChar
		case f.flags&flagSet != 0:
			return "SET", engine.JDBCChar
		case f.binary():
			return "BINARY", engine.JDBCBinary
		}
		return "CHAR", engine.JDBCChar
	case typeGeometry:
		return "GEOMETRY", engine.JDBCBinary
	case typeVector:
		return "VECTOR", engine.JDBCVarbinary
	}
	return "UNKNOWN", engine.JDBCOther
}

// blobName sizes BLOB/TEXT columns as Connector/J does, by maximum length.
func blobName(f *field) (string, int32) {
	n := uint64(f.length)
	if !f.binary() {
		n /= uint64(mbMaxLen(f.collation))
	}
	prefix := ""
	switch {
	case n <= 255:
		prefix = "TINY"
	case n <= 65535:
	case n <= 16777215:
		prefix = "MEDIUM"
	default:
		prefix = "LONG"
	}
	if f.binary() {
		if prefix == "TINY" {
			return "TINYBLOB", engine.JDBCVarbinary
		}
		return prefix + "BLOB", engine.JDBCLongVarbinary
	}
	if prefix == "TINY" {
		return "TINYTEXT", engine.JDBCVarchar
	}
	return prefix + "TEXT", engine.JDBCLongVarchar
}

// precision is the display length; characters for text, digits for DECIMAL.
func precision(f *field) int32 {
	n := int64(f.length)
	switch f.typ {
	case typeDecimal, typeNewDecimal:
		if !f.unsigned() {
			n--
		}
		if f.decimals > 0 {
			n--
		}
	case typeVarChar, typeVarString, typeString, typeTinyBlob, typeBlob, typeMediumBlob, typeLongBlob, typeJSON, typeEnum, typeSet:
		if !f.binary() {
			n /= int64(mbMaxLen(f.collation))
		}
	}
	return int32(min(max(n, 0), math.MaxInt32))
}

// mbMaxLen is the bytes per character of a collation's character set, for
// the collations a server typically sends (ids below 256); utf8mb4 otherwise.
func mbMaxLen(collation uint8) int {
	switch {
	case collation == binaryCollation:
		return 1
	case collation == 33 || collation == 83 || (collation >= 192 && collation <= 215):
		return 3 // utf8mb3
	case collation == 5 || collation == 8 || collation == 15 || collation == 31 ||
		(collation >= 47 && collation <= 49) || collation == 94 || collation == 11 || collation == 65:
		return 1 // latin1, ascii
	case collation == 54 || collation == 55 || collation == 101 || collation == 124 ||
		collation == 56 || collation == 62 || collation == 60 || collation == 61:
		return 4 // utf16, utf32
	}
	return 4
}

// value converts the text-protocol bytes of one value of column f (nil
// for NULL), returning its approximate size in the response; strings are
// stored in text (nil: allocated alone). read decodes through cells
// instead; this is the same mapping for one value.
func value(f *field, v []byte, text *strings.Builder) (engine.Value, int) {
	if v == nil {
		return engine.Null(), valueSize(f, v)
	}
	return decode(f, arenaString(text, v)), valueSize(f, v)
}

// arenaString returns v as a string stored in text, or allocated alone
// when text is nil.
func arenaString(text *strings.Builder, v []byte) string {
	if text == nil {
		return string(v)
	}
	off := text.Len()
	text.Write(v)
	return text.String()[off:]
}

// decode converts the text-protocol text s of one non-NULL value of column
// f; strings in the result share s's memory. The parsing matches what
// Connector/J's getters return for each type.
func decode(f *field, s string) engine.Value {
	switch f.typ {
	case typeNull:
		return engine.Null()
	case typeBit:
		for i := 0; i < len(s); i++ {
			if s[i] != 0 {
				return engine.Bool(true)
			}
		}
		return engine.Bool(false)
	case typeTiny, typeShort, typeInt24, typeLong, typeLongLong, typeYear:
		return integer(f, s)
	case typeFloat:
		return engine.Double(float32Value(s))
	case typeDouble:
		d, _ := strconv.ParseFloat(s, 64)
		return engine.Double(d)
	}
	if f.binary() && binaryTypes[f.typ] {
		if s == "" {
			return engine.Blob(nil)
		}
		return engine.Blob([]byte(s))
	}
	return engine.String(s)
}

// valueSize is the approximate size in the response of one value of
// column f (nil for NULL), for the result size limit.
func valueSize(f *field, v []byte) int {
	if v == nil || f.typ == typeNull {
		return 14
	}
	switch f.typ {
	case typeBit:
		return 20
	case typeTiny, typeShort, typeInt24, typeLong, typeLongLong, typeYear:
		if f.typ == typeLongLong && f.unsigned() && !f.isBool() {
			if u, _ := strconv.ParseUint(string(v), 10, 64); u > math.MaxInt64 {
				return 20 + len(strconv.FormatUint(u, 10))
			}
			return 32
		}
		if f.isBool() || f.typ == typeYear {
			return 20
		}
		return 32
	case typeFloat, typeDouble:
		return 32
	}
	if f.binary() && binaryTypes[f.typ] {
		return 16 + len(v)*4/3
	}
	return 16 + len(v)
}

// integer maps the integer types: booleans, 4-digit years, longValue, and
// stringValue for BIGINT UNSIGNED above MaxInt64.
func integer(f *field, v string) engine.Value {
	if f.typ == typeLongLong && f.unsigned() {
		u, _ := strconv.ParseUint(v, 10, 64)
		return unsignedValue(f, u)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return signedValue(f, n)
}

// unsignedValue maps the value u of a BIGINT UNSIGNED column f.
func unsignedValue(f *field, u uint64) engine.Value {
	if f.isBool() {
		return engine.Bool(u != 0)
	}
	if u > math.MaxInt64 {
		return engine.String(strconv.FormatUint(u, 10))
	}
	return engine.Long(int64(u))
}

// signedValue maps the value n of any other integer column f.
func signedValue(f *field, n int64) engine.Value {
	switch {
	case f.isBool():
		return engine.Bool(n != 0)
	case f.typ == typeYear:
		s := strconv.FormatInt(n, 10)
		for len(s) < 4 {
			s = "0" + s
		}
		return engine.String(s)
	}
	return engine.Long(n)
}

// binaryTypes are the column types whose binary-collation values are bytes
// (temporal and DECIMAL columns carry the binary collation too).
var binaryTypes = map[int]bool{
	typeVarChar: true, typeVarString: true, typeString: true, typeTinyBlob: true, typeBlob: true,
	typeMediumBlob: true, typeLongBlob: true, typeGeometry: true, typeVector: true,
}

// float32Value reads a FLOAT column as Connector/J's getDouble does: the
// float32 the server stores, widened through its shortest decimal text
// (1.1, not 1.100000023841858).
func float32Value(v string) float64 {
	d, _ := strconv.ParseFloat(v, 32)
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(float32(d)), 'g', -1, 32), 64)
	return f
}
