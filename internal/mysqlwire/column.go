package mysqlwire

// Column definitions (Protocol::ColumnDefinition41):
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html

import "encoding/binary"

// Column types (include/mysql_com.h, enum_field_types).
const (
	TypeDecimal    byte = 0
	TypeTiny       byte = 1
	TypeShort      byte = 2
	TypeLong       byte = 3
	TypeFloat      byte = 4
	TypeDouble     byte = 5
	TypeNull       byte = 6
	TypeTimestamp  byte = 7
	TypeLongLong   byte = 8
	TypeInt24      byte = 9
	TypeDate       byte = 10
	TypeTime       byte = 11
	TypeDateTime   byte = 12
	TypeYear       byte = 13
	TypeNewDate    byte = 14
	TypeVarChar    byte = 15
	TypeBit        byte = 16
	TypeVector     byte = 242
	TypeJSON       byte = 245
	TypeNewDecimal byte = 246
	TypeEnum       byte = 247
	TypeSet        byte = 248
	TypeTinyBlob   byte = 249
	TypeMediumBlob byte = 250
	TypeLongBlob   byte = 251
	TypeBlob       byte = 252
	TypeVarString  byte = 253
	TypeString     byte = 254
	TypeGeometry   byte = 255
)

// Column flags.
const (
	FlagNotNull       uint16 = 1
	FlagPriKey        uint16 = 2
	FlagUniqueKey     uint16 = 4
	FlagMultipleKey   uint16 = 8
	FlagBlob          uint16 = 16
	FlagUnsigned      uint16 = 32
	FlagZerofill      uint16 = 64
	FlagBinary        uint16 = 128
	FlagEnum          uint16 = 256
	FlagAutoIncrement uint16 = 512
	FlagTimestamp     uint16 = 1024
	FlagSet           uint16 = 2048
)

// BinaryCollation is the id of the "binary" character set/collation.
const BinaryCollation = 63

// Column is one decoded column definition. Strings are copies.
type Column struct {
	Schema   string
	Table    string // the table alias as the statement names it
	OrgTable string
	Name     string // the column label (alias)
	OrgName  string
	// Charset is the collation id of the column's character set (63 for
	// binary strings, numbers and temporal types).
	Charset  uint16
	Length   uint32 // display width (column_length)
	Type     byte
	Flags    uint16
	Decimals byte
}

// ParseColumn decodes a ColumnDefinition41 packet.
func ParseColumn(p []byte) (Column, error) {
	var c Column
	var s [6][]byte
	rest := p
	var ok bool
	for i := range s {
		if s[i], rest, ok = ReadLenencString(rest); !ok {
			return c, ErrMalformed
		}
	}
	// s[0] is the catalog ("def").
	c.Schema, c.Table, c.OrgTable = string(s[1]), string(s[2]), string(s[3])
	c.Name, c.OrgName = string(s[4]), string(s[5])
	n, rest, ok := ReadLenenc(rest)
	if !ok || n < 10 || uint64(len(rest)) < n {
		return c, ErrMalformed
	}
	c.Charset = binary.LittleEndian.Uint16(rest)
	c.Length = binary.LittleEndian.Uint32(rest[2:])
	c.Type = rest[6]
	c.Flags = binary.LittleEndian.Uint16(rest[7:])
	c.Decimals = rest[9]
	return c, nil
}

// Encode appends c as a ColumnDefinition41 packet.
func (c *Column) Encode(b []byte) []byte {
	for _, s := range []string{"def", c.Schema, c.Table, c.OrgTable, c.Name, c.OrgName} {
		b = AppendLenencString(b, []byte(s))
	}
	b = append(b, 0x0c)
	b = binary.LittleEndian.AppendUint16(b, c.Charset)
	b = binary.LittleEndian.AppendUint32(b, c.Length)
	b = append(b, c.Type)
	b = binary.LittleEndian.AppendUint16(b, c.Flags)
	return append(b, c.Decimals, 0, 0)
}
