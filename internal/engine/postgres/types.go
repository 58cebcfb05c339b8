package postgres

import (
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// codec says how a text-format result value of one PostgreSQL type becomes a
// Data API Field.
type codec uint8

const (
	codecText        codec = iota // stringValue, as PostgreSQL prints it
	codecInt                      // longValue
	codecFloat                    // doubleValue
	codecNumeric                  // stringValue, marked Decimal
	codecBool                     // booleanValue ("t"/"f")
	codecBit                      // bit(1) → booleanValue, longer bit strings → stringValue
	codecBytea                    // blobValue (hex text → bytes)
	codecTime                     // time/timestamp: stringValue with the fraction rule
	codecTimestamptz              // timestamptz: UTC (session TimeZone), offset removed, fraction rule
	codecVoid                     // stringValue ""
	codecArray                    // 1-D array of elem → arrayValue
	codecUnsupported              // UnsupportedResultException
)

// typeInfo describes one PostgreSQL type as sqlgate maps it.
type typeInfo struct {
	name  string // pg_type.typname, as pgjdbc's getColumnTypeName shows it ("int4", "_int4")
	codec codec
	jdbc  int32  // java.sql.Types code, as pgjdbc reports it
	elem  uint32 // element type OID of an array (codecArray only)
	// unsupported is the type name in "The result contains the unsupported
	// data type X." (codecUnsupported only).
	unsupported string
}

// firstUserOID is PostgreSQL's FirstNormalObjectId: OIDs below it are built in.
const firstUserOID = 16384

// Built-in type OIDs sqlgate refers to by name (pg_type.dat).
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidTimetz      = 1266
	oidBit         = 1560
	oidVarbit      = 1562
	oidNumeric     = 1700
	oidVoid        = 2278
	oidUUID        = 2950
	oidJSONB       = 3802
)

// builtinTypes lists the built-in types the Data API supports (spec §4.6
// "Supported types per engine", plus oid, void and timestamptz whose
// behaviour is documented). Any other built-in OID (< firstUserOID) is
// unsupported, which matches AWS rejecting even simple types such as "char"
// and regclass: the Data API works from an allow-list.
var builtinTypes = map[uint32]typeInfo{
	oidBool:        {name: "bool", codec: codecBool, jdbc: engine.JDBCBit},
	oidBytea:       {name: "bytea", codec: codecBytea, jdbc: engine.JDBCBinary},
	oidName:        {name: "name", codec: codecText, jdbc: engine.JDBCVarchar},
	oidInt8:        {name: "int8", codec: codecInt, jdbc: engine.JDBCBigInt},
	oidInt2:        {name: "int2", codec: codecInt, jdbc: engine.JDBCSmallInt},
	oidInt4:        {name: "int4", codec: codecInt, jdbc: engine.JDBCInteger},
	oidText:        {name: "text", codec: codecText, jdbc: engine.JDBCVarchar},
	oidOID:         {name: "oid", codec: codecText, jdbc: engine.JDBCBigInt},
	oidJSON:        {name: "json", codec: codecText, jdbc: engine.JDBCOther},
	650:            {name: "cidr", codec: codecText, jdbc: engine.JDBCOther},
	869:            {name: "inet", codec: codecText, jdbc: engine.JDBCOther},
	oidFloat4:      {name: "float4", codec: codecFloat, jdbc: engine.JDBCReal},
	oidFloat8:      {name: "float8", codec: codecFloat, jdbc: engine.JDBCDouble},
	oidUnknown:     {name: "unknown", codec: codecText, jdbc: engine.JDBCVarchar},
	oidBpchar:      {name: "bpchar", codec: codecText, jdbc: engine.JDBCChar},
	oidVarchar:     {name: "varchar", codec: codecText, jdbc: engine.JDBCVarchar},
	oidDate:        {name: "date", codec: codecText, jdbc: engine.JDBCDate},
	oidTime:        {name: "time", codec: codecTime, jdbc: engine.JDBCTime},
	oidTimestamp:   {name: "timestamp", codec: codecTime, jdbc: engine.JDBCTimestamp},
	oidTimestamptz: {name: "timestamptz", codec: codecTimestamptz, jdbc: engine.JDBCTimestamp},
	oidBit:         {name: "bit", codec: codecBit, jdbc: engine.JDBCBit},
	oidNumeric:     {name: "numeric", codec: codecNumeric, jdbc: engine.JDBCNumeric},
	oidVoid:        {name: "void", codec: codecVoid, jdbc: engine.JDBCOther},
	oidUUID:        {name: "uuid", codec: codecText, jdbc: engine.JDBCOther},
	oidJSONB:       {name: "jsonb", codec: codecText, jdbc: engine.JDBCOther},

	// 1-D arrays of the supported element types,
	// plus timestamptz[] and jsonb[] whose elements map like their scalars.
	1000: arrayOf("_bool", oidBool),
	1561: arrayOf("_bit", oidBit),
	1005: arrayOf("_int2", oidInt2),
	1007: arrayOf("_int4", oidInt4),
	1016: arrayOf("_int8", oidInt8),
	1021: arrayOf("_float4", oidFloat4),
	1022: arrayOf("_float8", oidFloat8),
	1231: arrayOf("_numeric", oidNumeric),
	1009: arrayOf("_text", oidText),
	1015: arrayOf("_varchar", oidVarchar),
	1014: arrayOf("_bpchar", oidBpchar),
	1003: arrayOf("_name", oidName),
	1182: arrayOf("_date", oidDate),
	1183: arrayOf("_time", oidTime),
	1115: arrayOf("_timestamp", oidTimestamp),
	1185: arrayOf("_timestamptz", oidTimestamptz),
	2951: arrayOf("_uuid", oidUUID),
	199:  arrayOf("_json", oidJSON),
	3807: arrayOf("_jsonb", oidJSONB),
}

// unsupportedNames spells the type in the UnsupportedResultException message
// where AWS does not simply upper-case pg_type.typname.
var unsupportedNames = map[uint32]string{
	oidChar: `"CHAR"`,
	2205:    "regclass",
}

// builtinNames names the unsupported built-in types sqlgate is likely to meet,
// so their error needs no catalog lookup.
var builtinNames = map[uint32]string{
	oidChar: "char", 24: "regproc", 142: "xml", 600: "point", 601: "lseg", 602: "path",
	603: "box", 604: "polygon", 628: "line", 718: "circle", 774: "macaddr8", 790: "money",
	829: "macaddr", oidInterval: "interval", oidTimetz: "timetz", oidVarbit: "varbit",
	2205: "regclass", 2206: "regtype", 2249: "record", 3614: "tsvector", 3904: "int4range",
	3906: "numrange", 3908: "tsrange", 3910: "tstzrange", 3912: "daterange", 3926: "int8range",
	4451: "int4multirange", 4532: "nummultirange", 4533: "tsmultirange", 4534: "tstzmultirange",
	4535: "datemultirange", 4536: "int8multirange", 1187: "_interval", 1270: "_timetz",
	791: "_money", 1001: "_bytea", 1002: "_char",
}

func arrayOf(name string, elem uint32) typeInfo {
	return typeInfo{name: name, codec: codecArray, jdbc: engine.JDBCArray, elem: elem}
}

// unsupportedType builds the typeInfo of a type the Data API rejects.
func unsupportedType(oid uint32, name string) typeInfo {
	msg, ok := unsupportedNames[oid]
	if !ok {
		msg = strings.ToUpper(name)
	}
	return typeInfo{name: name, codec: codecUnsupported, jdbc: engine.JDBCOther, unsupported: msg}
}

// lookupStatic returns the typeInfo of a built-in OID without a catalog
// lookup; ok is false for user-defined OIDs and unnamed built-ins.
func lookupStatic(oid uint32) (typeInfo, bool) {
	if ti, ok := builtinTypes[oid]; ok {
		return ti, true
	}
	if name, ok := builtinNames[oid]; ok {
		return unsupportedType(oid, name), true
	}
	return typeInfo{}, false
}

// elemKind is the Field kind of an array element of type ti.
func elemKind(ti typeInfo) engine.Kind {
	switch ti.codec {
	case codecInt:
		return engine.KindLong
	case codecFloat:
		return engine.KindDouble
	case codecBool, codecBit:
		return engine.KindBool
	default:
		return engine.KindString
	}
}
