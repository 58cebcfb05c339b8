package mysql

// Column definitions as the server sent them (mysqlwire.Column): the
// display length tells TINYINT(1) from TINYINT(4), the flags carry
// AUTO_INCREMENT, NOT NULL and UNSIGNED, the collation tells BLOB from TEXT.
// Column.Name is the label and TableName the table alias, as the Data
// API's captures show them.

import "github.com/sqlgate/sqlgate/internal/mysqlwire"

// MySQL protocol column types and flags (include/mysql_com.h).
const (
	typeDecimal    = int(mysqlwire.TypeDecimal)
	typeTiny       = int(mysqlwire.TypeTiny)
	typeShort      = int(mysqlwire.TypeShort)
	typeLong       = int(mysqlwire.TypeLong)
	typeFloat      = int(mysqlwire.TypeFloat)
	typeDouble     = int(mysqlwire.TypeDouble)
	typeNull       = int(mysqlwire.TypeNull)
	typeTimestamp  = int(mysqlwire.TypeTimestamp)
	typeLongLong   = int(mysqlwire.TypeLongLong)
	typeInt24      = int(mysqlwire.TypeInt24)
	typeDate       = int(mysqlwire.TypeDate)
	typeTime       = int(mysqlwire.TypeTime)
	typeDateTime   = int(mysqlwire.TypeDateTime)
	typeYear       = int(mysqlwire.TypeYear)
	typeNewDate    = int(mysqlwire.TypeNewDate)
	typeVarChar    = int(mysqlwire.TypeVarChar)
	typeBit        = int(mysqlwire.TypeBit)
	typeVector     = int(mysqlwire.TypeVector)
	typeJSON       = int(mysqlwire.TypeJSON)
	typeNewDecimal = int(mysqlwire.TypeNewDecimal)
	typeEnum       = int(mysqlwire.TypeEnum)
	typeSet        = int(mysqlwire.TypeSet)
	typeTinyBlob   = int(mysqlwire.TypeTinyBlob)
	typeMediumBlob = int(mysqlwire.TypeMediumBlob)
	typeLongBlob   = int(mysqlwire.TypeLongBlob)
	typeBlob       = int(mysqlwire.TypeBlob)
	typeVarString  = int(mysqlwire.TypeVarString)
	typeString     = int(mysqlwire.TypeString)
	typeGeometry   = int(mysqlwire.TypeGeometry)

	flagNotNull       = mysqlwire.FlagNotNull
	flagUnsigned      = mysqlwire.FlagUnsigned
	flagEnum          = mysqlwire.FlagEnum
	flagAutoIncrement = mysqlwire.FlagAutoIncrement
	flagSet           = mysqlwire.FlagSet

	binaryCollation = mysqlwire.BinaryCollation
)

// field is one column definition.
type field struct {
	table     string
	name      string
	length    uint32
	flags     uint16
	typ       int
	decimals  uint8
	collation uint8 // low byte of the collation id
}

func fieldOf(c *mysqlwire.Column) field {
	return field{table: c.Table, name: c.Name, length: c.Length, flags: c.Flags, typ: int(c.Type),
		decimals: c.Decimals, collation: uint8(c.Charset)}
}

func (f *field) unsigned() bool { return f.flags&flagUnsigned != 0 }
func (f *field) binary() bool   { return f.collation == binaryCollation }

// isBool reports the Data API's boolean columns: TINYINT(1) (BOOL) and BIT(n).
func (f *field) isBool() bool {
	return f.typ == typeBit || (f.typ == typeTiny && f.length == 1)
}
