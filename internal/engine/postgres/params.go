package postgres

import (
	"math"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Protocol format codes of Bind parameters.
const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// hintOIDs are the types a typeHint binds a stringValue as.
var hintOIDs = map[engine.TypeHint]uint32{
	engine.HintNone:      oidVarchar,
	engine.HintJSON:      oidJSONB,
	engine.HintUUID:      oidUUID,
	engine.HintDate:      oidDate,
	engine.HintTime:      oidTime,
	engine.HintTimestamp: oidTimestamp,
	engine.HintDecimal:   oidNumeric,
}

// boundParams are parameter values ready for pgconn.ExecParams.
type boundParams struct {
	values  [][]byte
	oids    []uint32
	formats []int16
}

// bindParams encodes params (in marker order) the way the Data API binds them
// on PostgreSQL: with explicit parameter types, so that e.g. a stringValue
// without a hint is a varchar and fails against a jsonb column like on AWS.
// A NULL is untyped (OID 0) so that any column accepts it.
func bindParams(params []engine.Param) (boundParams, error) {
	b := boundParams{
		values:  make([][]byte, len(params)),
		oids:    make([]uint32, len(params)),
		formats: make([]int16, len(params)),
	}
	for i, p := range params {
		v := p.Value
		switch v.Kind {
		case engine.KindNull:
			// values[i] = nil, oids[i] = 0: an untyped NULL.
		case engine.KindString:
			oid, ok := hintOIDs[p.Hint]
			if !ok {
				return boundParams{}, &engine.ParamError{Msg: "Invalid typeHint " + string(p.Hint) + " for parameter " + p.Name + ".", Validation: true}
			}
			b.values[i], b.oids[i] = []byte(v.String), oid
		case engine.KindLong:
			b.values[i], b.oids[i] = strconv.AppendInt(nil, v.Long, 10), oidInt8
		case engine.KindDouble:
			b.values[i], b.oids[i] = []byte(formatFloat(v.Double)), oidFloat8
		case engine.KindBool:
			b.values[i], b.oids[i] = []byte("f"), oidBool
			if v.Bool {
				b.values[i] = []byte("t")
			}
		case engine.KindBlob:
			b.values[i], b.oids[i], b.formats[i] = v.Blob, oidBytea, formatBinary
			if b.values[i] == nil {
				b.values[i] = []byte{} // an empty blob is not NULL
			}
		case engine.KindArray:
			return boundParams{}, &engine.ParamError{Msg: "Array parameters are not supported.", Validation: true}
		default:
			return boundParams{}, &engine.ParamError{Msg: "Unsupported value for parameter " + p.Name + ".", Validation: true}
		}
	}
	return b, nil
}

// formatFloat prints f as PostgreSQL's float8 input accepts it.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
