package postgres

import (
	"math"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// unknownLength is pgjdbc's precision for unbounded types (text, bytea, …).
const unknownLength = math.MaxInt32

// column builds the Data API ColumnMetadata of one result column the way
// pgjdbc's PgResultSetMetaData reports it. The table-derived
// members (tableName, nullable, isAutoIncrement, serial type names) are left
// at their "unknown" values here and filled by Conn.DescribeColumns.
func column(name string, oid uint32, typmod int32, ti typeInfo) engine.Column {
	base := oid
	if ti.codec == codecArray {
		base = ti.elem // pgjdbc's convertArrayToBaseOid
	}
	return engine.Column{
		Name:            name,
		Label:           name,
		TypeName:        ti.name,
		Type:            ti.jdbc,
		Precision:       precision(base, typmod),
		Scale:           scale(base, typmod),
		Nullable:        2, // columnNullableUnknown
		IsSigned:        isSigned(base),
		IsCaseSensitive: isCaseSensitive(base),
		IsCurrency:      ti.name == "money",
	}
}

// precision mirrors pgjdbc TypeInfoCache.getPrecision.
func precision(oid uint32, typmod int32) int32 {
	switch oid {
	case oidInt2:
		return 5
	case oidOID, oidInt4:
		return 10
	case oidInt8:
		return 19
	case oidFloat4, oidFloat8:
		return floatDigits(oid)
	case oidNumeric:
		p, _ := numericMods(typmod)
		return p
	case oidChar, oidBool:
		return 1
	case oidBpchar, oidVarchar:
		if typmod == -1 {
			return unknownLength
		}
		return typmod - 4
	case oidDate, oidTime, oidTimetz, oidTimestamp, oidTimestamptz, oidInterval:
		return displaySize(oid, typmod)
	case oidBit:
		return typmod
	case oidVarbit:
		if typmod == -1 {
			return unknownLength
		}
		return typmod
	default:
		return unknownLength
	}
}

// displaySize mirrors pgjdbc TypeInfoCache.getDisplaySize for date/time types.
func displaySize(oid uint32, typmod int32) int32 {
	if oid == oidDate {
		return 13
	}
	var secondSize int32
	switch typmod {
	case -1:
		secondSize = 6 + 1
	case 0:
		secondSize = 0
	case 1:
		secondSize = 2 + 1
	default:
		secondSize = typmod + 1
	}
	switch oid {
	case oidTime:
		return 8 + secondSize
	case oidTimetz:
		return 8 + secondSize + 6
	case oidTimestamp:
		return 13 + 1 + 8 + secondSize
	case oidTimestamptz:
		return 13 + 1 + 8 + secondSize + 6
	default: // interval
		return unknownLength
	}
}

// scale mirrors pgjdbc TypeInfoCache.getScale.
func scale(oid uint32, typmod int32) int32 {
	switch oid {
	case oidFloat4, oidFloat8:
		return floatDigits(oid)
	case oidNumeric:
		_, sc := numericMods(typmod)
		return sc
	case oidTime, oidTimetz, oidTimestamp, oidTimestamptz:
		if typmod == -1 {
			return 6
		}
		return typmod
	default:
		return 0
	}
}

// floatDigits is pgjdbc's precision and scale of float4 and float8.
func floatDigits(oid uint32) int32 {
	if oid == oidFloat4 {
		return 8
	}
	return 17
}

// numericMods splits a numeric typmod into precision and scale; both are
// 0 for an unconstrained numeric (typmod -1).
func numericMods(typmod int32) (precision, scale int32) {
	if typmod == -1 {
		return 0, 0
	}
	return ((typmod - 4) >> 16) & 0xffff, (typmod - 4) & 0xffff
}

func isSigned(oid uint32) bool {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidFloat4, oidFloat8, oidNumeric:
		return true
	}
	return false
}

func isCaseSensitive(oid uint32) bool {
	switch oid {
	case oidOID, oidInt2, oidInt4, oidInt8, oidFloat4, oidFloat8, oidNumeric, oidBool, oidBit,
		oidVarbit, oidDate, oidTime, oidTimetz, oidTimestamp, oidTimestamptz, oidInterval:
		return false
	}
	return true
}
