package postgres

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// errMultiDim reports a multi-dimensional array value, which the Data API v2
// rejects.
var errMultiDim = errors.New("multi-dimensional array")

// decode converts one text-format result value (nil = SQL NULL) of type ti;
// elem is the element type of an array.
func decode(ti, elem typeInfo, raw []byte) (engine.Value, error) {
	if raw == nil {
		return engine.Null(), nil
	}
	return decodeText(ti, elem, string(raw))
}

// decodeText decodes the text form s of a non-NULL value. Strings in the
// result share s's memory.
func decodeText(ti, elem typeInfo, s string) (engine.Value, error) {
	if ti.codec != codecArray {
		return decodeScalar(ti.codec, s)
	}
	items, err := parseArray(s)
	if err != nil {
		return engine.Value{}, err
	}
	v := engine.Value{Kind: engine.KindArray, ElemKind: elemKind(elem), Array: make([]engine.Value, len(items))}
	for i, it := range items {
		if it == nil {
			v.Array[i] = engine.Null()
			continue
		}
		if v.Array[i], err = decodeScalar(elem.codec, *it); err != nil {
			return engine.Value{}, err
		}
	}
	return v, nil
}

func decodeScalar(c codec, s string) (engine.Value, error) {
	switch c {
	case codecInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return engine.Value{}, fmt.Errorf("decode integer %q: %w", s, err)
		}
		return engine.Long(n), nil
	case codecFloat:
		// ParseFloat accepts PostgreSQL's "NaN", "Infinity" and "-Infinity";
		// the wire layer decides how to show non-finite doubles.
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return engine.Value{}, fmt.Errorf("decode float %q: %w", s, err)
		}
		return engine.Double(f), nil
	case codecBool:
		return engine.Bool(s == "t"), nil
	case codecBit:
		if s == "1" || s == "0" {
			return engine.Bool(s == "1"), nil
		}
		return engine.String(s), nil
	case codecBytea:
		b, ok := strings.CutPrefix(s, `\x`)
		if !ok {
			return engine.Value{}, fmt.Errorf("decode bytea: not hex format")
		}
		out, err := hex.DecodeString(b)
		if err != nil {
			return engine.Value{}, fmt.Errorf("decode bytea: %w", err)
		}
		return engine.Blob(out), nil
	case codecTime:
		return engine.String(fraction(s)), nil
	case codecTimestamptz:
		return engine.String(fraction(stripUTC(s))), nil
	case codecVoid:
		return engine.String(""), nil
	default: // codecText, codecNumeric
		return engine.String(s), nil
	}
}

// stripUTC removes the "+00" zone of a timestamptz printed with TimeZone=UTC
// (the session setting), keeping a trailing " BC" era.
func stripUTC(s string) string {
	s, bc := strings.CutSuffix(s, " BC")
	s = strings.TrimSuffix(s, "+00")
	if bc {
		s += " BC"
	}
	return s
}

// fraction applies the Data API's rule to the seconds fraction of a time or
// timestamp: no fraction when it is zero, milliseconds when they suffice,
// microseconds otherwise. PostgreSQL prints the fraction with
// trailing zeros removed, e.g. ".1" → ".100", ".1234" → ".123400".
func fraction(s string) string {
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return s
	}
	end := dot + 1
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	digits := strings.TrimRight(s[dot+1:end], "0")
	switch {
	case digits == "":
		return s[:dot] + s[end:]
	case len(digits) <= 3:
		digits += strings.Repeat("0", 3-len(digits))
	case len(digits) < 6:
		digits += strings.Repeat("0", 6-len(digits))
	}
	return s[:dot+1] + digits + s[end:]
}

// parseArray splits a 1-D PostgreSQL array literal ("{1,NULL,"a b"}") into its
// elements; a nil element is SQL NULL. Multi-dimensional values return
// errMultiDim.
func parseArray(s string) ([]*string, error) {
	if strings.HasPrefix(s, "[") { // explicit bounds: "[0:1]={…}", "[1:2][1:2]={…}"
		eq := strings.Index(s, "={")
		if eq < 0 {
			return nil, fmt.Errorf("decode array: malformed bounds")
		}
		if strings.Count(s[:eq], "[") > 1 {
			return nil, errMultiDim
		}
		s = s[eq+1:]
	}
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("decode array: malformed literal")
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return []*string{}, nil
	}
	if body[0] == '{' {
		return nil, errMultiDim
	}
	var items []*string
	for i := 0; i <= len(body); {
		item, next, err := arrayItem(body, i)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
		i = next + 1 // skip the ','
	}
	return items, nil
}

// arrayItem reads the element starting at body[i] and returns it with the
// index of the following ',' (or len(body)).
func arrayItem(body string, i int) (*string, int, error) {
	if i < len(body) && body[i] == '"' {
		var b bytes.Buffer
		for i++; i < len(body); i++ {
			switch body[i] {
			case '\\':
				i++
				if i < len(body) {
					b.WriteByte(body[i])
				}
			case '"':
				v := b.String()
				if i+1 < len(body) && body[i+1] != ',' {
					return nil, 0, fmt.Errorf("decode array: malformed quoted element")
				}
				return &v, i + 1, nil
			default:
				b.WriteByte(body[i])
			}
		}
		return nil, 0, fmt.Errorf("decode array: unterminated quoted element")
	}
	end := strings.IndexByte(body[i:], ',')
	if end < 0 {
		end = len(body)
	} else {
		end += i
	}
	v := strings.TrimSpace(body[i:end])
	if strings.EqualFold(v, "NULL") {
		return nil, end, nil
	}
	return &v, end, nil
}
