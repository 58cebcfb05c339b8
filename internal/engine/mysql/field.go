package mysql

// Column definitions as the server sent them.
//
// go-sql-driver/mysql parses each column definition packet
// (https://mariadb.com/kb/en/result-set-packets/#column-definition-packet)
// into an unexported mysqlField but exposes only part of it: no display
// length (so TINYINT(1) can't be told from TINYINT(4)), no AUTO_INCREMENT
// flag, no decimals for non-DECIMAL types. Those decide the Data API's
// booleanValue mapping and the JDBC metadata, so peekFields reads them with
// reflection (read-only, no unsafe). The driver version is pinned in go.sum
// and TestPeekFields fails if the layout changes; at run time a mismatch
// degrades to typing by Go value (see fallbackFields).
//
// The driver skips org_name and org_table, so Column.Name equals the label
// and TableName is the table alias (Connector/J reports the originals).

import (
	"database/sql/driver"
	"reflect"
)

// MySQL protocol column types and flags (include/mysql_com.h).
const (
	typeDecimal    = 0
	typeTiny       = 1
	typeShort      = 2
	typeLong       = 3
	typeFloat      = 4
	typeDouble     = 5
	typeNull       = 6
	typeTimestamp  = 7
	typeLongLong   = 8
	typeInt24      = 9
	typeDate       = 10
	typeTime       = 11
	typeDateTime   = 12
	typeYear       = 13
	typeNewDate    = 14
	typeVarChar    = 15
	typeBit        = 16
	typeVector     = 242
	typeJSON       = 245
	typeNewDecimal = 246
	typeEnum       = 247
	typeSet        = 248
	typeTinyBlob   = 249
	typeMediumBlob = 250
	typeLongBlob   = 251
	typeBlob       = 252
	typeVarString  = 253
	typeString     = 254
	typeGeometry   = 255

	// typeUnknown marks a fallback field typed by its Go values.
	typeUnknown = -1

	flagNotNull       = 1
	flagUnsigned      = 32
	flagEnum          = 256
	flagAutoIncrement = 512
	flagSet           = 2048

	binaryCollation = 63
)

// field is one column definition.
type field struct {
	table     string
	name      string
	length    uint32
	flags     uint16
	typ       int
	decimals  uint8
	collation uint8 // low byte of the collation id, as the driver keeps it
	dbType    string
}

func (f *field) unsigned() bool { return f.flags&flagUnsigned != 0 }
func (f *field) binary() bool   { return f.collation == binaryCollation }

// isBool reports the Data API's boolean columns: TINYINT(1) (BOOL) and BIT(n).
func (f *field) isBool() bool {
	return f.typ == typeBit || (f.typ == typeTiny && f.length == 1)
}

// peekFields reads the driver's column definitions of rows.
func peekFields(rows driver.Rows) ([]field, bool) {
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	rs := v.Elem().FieldByName("rs")
	if rs.Kind() != reflect.Struct {
		return nil, false
	}
	cols := rs.FieldByName("columns")
	if cols.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]field, cols.Len())
	for i := range out {
		c := cols.Index(i)
		if c.Kind() != reflect.Struct {
			return nil, false
		}
		var ok [6]bool
		var f field
		f.table, ok[0] = stringField(c, "tableName")
		f.name, ok[1] = stringField(c, "name")
		var n uint64
		n, ok[2] = uintField(c, "length")
		f.length = uint32(n)
		n, ok[3] = uintField(c, "flags")
		f.flags = uint16(n)
		n, ok[4] = uintField(c, "fieldType")
		f.typ = int(n)
		n, ok[5] = uintField(c, "decimals")
		f.decimals = uint8(n)
		n, okc := uintField(c, "charSet")
		f.collation = uint8(n)
		if ok != [6]bool{true, true, true, true, true, true} || !okc {
			return nil, false
		}
		if dt, isDT := rows.(driver.RowsColumnTypeDatabaseTypeName); isDT {
			f.dbType = dt.ColumnTypeDatabaseTypeName(i)
		}
		out[i] = f
	}
	return out, true
}

// fallbackFields types columns from what the driver exports.
func fallbackFields(rows driver.Rows) []field {
	names := rows.Columns()
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = field{name: n, typ: typeUnknown}
		if dt, ok := rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
			out[i].dbType = dt.ColumnTypeDatabaseTypeName(i)
		}
		if nl, ok := rows.(driver.RowsColumnTypeNullable); ok {
			if nullable, known := nl.ColumnTypeNullable(i); known && !nullable {
				out[i].flags |= flagNotNull
			}
		}
	}
	return out
}

func stringField(v reflect.Value, name string) (string, bool) {
	f := v.FieldByName(name)
	if f.Kind() != reflect.String {
		return "", false
	}
	return f.String(), true
}

func uintField(v reflect.Value, name string) (uint64, bool) {
	f := v.FieldByName(name)
	switch f.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return f.Uint(), true
	}
	return 0, false
}

// peekOK reads the affected-rows and last-insert-id of the OK packet that
// ended the last statement on dc. The driver keeps them on the connection
// (mysqlConn.result) but returns them only from Exec, and Exec discards
// result sets; reading them here lets every statement go through Query,
// one round trip, whatever it turns out to be.
func peekOK(dc driver.Conn) (affected, insertID int64, ok bool) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, 0, false
	}
	res := v.Elem().FieldByName("result")
	if res.Kind() != reflect.Struct {
		return 0, 0, false
	}
	a, ins := res.FieldByName("affectedRows"), res.FieldByName("insertIds")
	if a.Kind() != reflect.Slice || ins.Kind() != reflect.Slice || a.Len() == 0 || ins.Len() == 0 ||
		a.Type().Elem().Kind() != reflect.Int64 || ins.Type().Elem().Kind() != reflect.Int64 {
		return 0, 0, false
	}
	return a.Index(a.Len() - 1).Int(), ins.Index(ins.Len() - 1).Int(), true
}
