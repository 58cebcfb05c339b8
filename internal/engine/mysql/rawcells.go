package mysql

import (
	"math"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// Numbers of binary-protocol results (the statement cache's) kept in the
// protocol's form.
//
// mysqlwire renders binary values as the text protocol would, and decode
// parses that text back: for the integer types and for a DOUBLE without
// fixed decimals (printed shortest, which parses back to the same double)
// the round trip gives back exactly the value the server sent, so read
// keeps those values' raw bytes instead and rawValue decodes them
// directly. Every other type is rendered (mysqlwire.AppendBinaryText) and
// decoded as text, unchanged.

// How read stores the values of a binary-protocol column.
const (
	colText   uint8 = iota // the raw bytes are the text (strings)
	colRaw                 // kept raw, decoded by rawValue
	colRender              // rendered as text first
)

// binaryMode is how read stores the values of column c of a
// binary-protocol result.
func binaryMode(c *mysqlwire.Column) uint8 {
	switch int(c.Type) {
	case typeTiny, typeShort, typeYear, typeInt24, typeLong, typeLongLong:
		return colRaw
	case typeDouble:
		// mysqlwire prints a DOUBLE with fixed decimals (< 31) rounded to
		// them: only the "not fixed" ones round-trip.
		if c.Decimals >= notFixedDecimals {
			return colRaw
		}
	}
	if mysqlwire.BinaryIsText(c.Type) {
		return colText
	}
	return colRender
}

// notFixedDecimals is the decimals of a FLOAT or DOUBLE column without a
// fixed scale (MariaDB 31, MySQL 39).
const notFixedDecimals = 31

// rawUint reads the little-endian integer s (1 to 8 bytes).
func rawUint(s string) uint64 {
	var u uint64
	for i := len(s) - 1; i >= 0; i-- {
		u = u<<8 | uint64(s[i])
	}
	return u
}

// rawValue is decode for s, the raw bytes of a non-NULL value of a colRaw
// column f.
func rawValue(f *field, s string) engine.Value {
	u := rawUint(s)
	switch {
	case f.typ == typeDouble:
		d := math.Float64frombits(u)
		if d != d {
			d = math.NaN() // as parsing "NaN" gives (servers send none)
		}
		return engine.Double(d)
	case f.typ == typeLongLong && f.unsigned():
		return unsignedValue(f, u)
	case f.unsigned() || f.typ == typeYear:
		return signedValue(f, int64(u))
	}
	// Sign-extend from the value's width.
	shift := 64 - 8*uint(len(s))
	return signedValue(f, int64(u<<shift)>>shift)
}

// rawSize is valueSize for s, the raw bytes of a non-NULL value of a
// colRaw column f.
func rawSize(f *field, s string) int {
	if f.typ == typeLongLong && f.unsigned() && !f.isBool() {
		switch u := rawUint(s); {
		case u >= 1e19:
			return 40
		case u > math.MaxInt64:
			return 39
		}
		return 32
	}
	return valueSize(f, []byte{})
}
