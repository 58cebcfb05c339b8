package mysql

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// Formats a typeHint'ed stringValue must have, as JDBC's
// Date/Time/Timestamp.valueOf and BigDecimal accept them.
var hintFormats = map[engine.TypeHint]*regexp.Regexp{
	engine.HintDate:      regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2}$`),
	engine.HintTime:      regexp.MustCompile(`^\d{1,2}:\d{1,2}:\d{1,2}(\.\d{1,9})?$`),
	engine.HintTimestamp: regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(\.\d{1,9})?$`),
	engine.HintDecimal:   regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`),
}

// arg is one bound parameter: nil, bool, int64, float64, string or []byte.
type arg struct {
	Ordinal int // 1-based marker position
	Value   any
}

// bind converts parameters (in marker order) to args, which interpolate
// inlines as SQL literals (see literal.go).
func bind(params []engine.Param) ([]arg, error) {
	if len(params) == 0 {
		return nil, nil
	}
	out := make([]arg, len(params))
	for i, p := range params {
		out[i].Ordinal = i + 1
		v := p.Value
		switch v.Kind {
		case engine.KindNull:
			out[i].Value = nil
		case engine.KindBool:
			out[i].Value = v.Bool
		case engine.KindLong:
			out[i].Value = v.Long
		case engine.KindDouble:
			if math.IsNaN(v.Double) || math.IsInf(v.Double, 0) {
				return nil, &engine.DBError{
					Message:  "'" + strconv.FormatFloat(v.Double, 'g', -1, 64) + "' is not a valid numeric or approximate numeric value",
					SQLState: "S1009",
				}
			}
			out[i].Value = v.Double
		case engine.KindString:
			if err := checkHint(p); err != nil {
				return nil, err
			}
			out[i].Value = v.String
		case engine.KindBlob:
			b := v.Blob
			if b == nil {
				b = []byte{}
			}
			out[i].Value = b
		case engine.KindArray:
			return nil, &engine.ParamError{Msg: "Array parameters are not supported.", Validation: true}
		default:
			return nil, &engine.ParamError{Msg: "Unsupported value for parameter: " + p.Name}
		}
	}
	return out, nil
}

func checkHint(p engine.Param) error {
	ok := true
	switch p.Hint {
	case engine.HintNone, engine.HintUUID:
	case engine.HintJSON:
		ok = json.Valid([]byte(p.Value.String))
	default:
		re, known := hintFormats[p.Hint]
		ok = known && re.MatchString(p.Value.String)
	}
	if !ok {
		return &engine.ParamError{Msg: "Invalid " + string(p.Hint) + " value for parameter: " + p.Name}
	}
	return nil
}
