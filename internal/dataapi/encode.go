package dataapi

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// The response encoder appends JSON by hand: no reflection on the hot path,
// and exact control over the union discipline (exactly one member per
// Field) and number formatting (longs as integers, doubles with a
// fraction or Java-style exponent, like AWS's Java service).

// mapOptions carries resultSetOptions.
type mapOptions struct {
	longAsString    bool // longReturnType=STRING
	decimalAsNumber bool // decimalReturnType=DOUBLE_OR_LONG
}

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// plain[c] is true for the bytes appendString copies as they are: ASCII
// other than control characters, '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendDouble formats f like Java's Double.toString, which AWS's service
// uses: 123.0, 0.1, 1.0E10, 4.9E-324. NaN and infinities become the strings
// the SDKs accept ("NaN", "Infinity", "-Infinity").
func appendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	if abs == 0 || (abs >= 1e-3 && abs < 1e7) {
		start := len(b)
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
		if bytes.IndexByte(b[start:], '.') < 0 {
			b = append(b, '.', '0')
		}
		return b
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'E', -1, 64) // 1.5E+10, 1E-05
	e := bytes.IndexByte(s, 'E')
	mant, exp := s[:e], s[e+1:]
	b = append(b, mant...)
	if bytes.IndexByte(mant, '.') < 0 {
		b = append(b, '.', '0')
	}
	b = append(b, 'E')
	if exp[0] == '-' {
		b = append(b, '-')
	}
	return append(b, bytes.TrimLeft(exp[1:], "0")...)
}

// appendField writes one Field union with exactly one member.
func appendField(b []byte, v engine.Value, decimal bool, o mapOptions) []byte {
	switch v.Kind {
	case engine.KindNull:
		return append(b, `{"isNull":true}`...)
	case engine.KindBool:
		return append(strconv.AppendBool(append(b, `{"booleanValue":`...), v.Bool), '}')
	case engine.KindLong:
		if o.longAsString {
			return append(appendString(append(b, `{"stringValue":`...), strconv.FormatInt(v.Long, 10)), '}')
		}
		return append(strconv.AppendInt(append(b, `{"longValue":`...), v.Long, 10), '}')
	case engine.KindDouble:
		return append(appendDouble(append(b, `{"doubleValue":`...), v.Double), '}')
	case engine.KindString:
		if decimal && o.decimalAsNumber {
			if n, ok := decimalNumber(v.String); ok {
				return appendField(b, n, false, mapOptions{})
			}
		}
		return append(appendString(append(b, `{"stringValue":`...), v.String), '}')
	case engine.KindBlob:
		b = append(b, `{"blobValue":"`...)
		b = base64.StdEncoding.AppendEncode(b, v.Blob)
		return append(b, `"}`...)
	case engine.KindArray:
		return append(appendArray(append(b, `{"arrayValue":`...), v), '}')
	}
	return append(b, `{"isNull":true}`...)
}

// appendTextField writes the Field of a value a TextCells hands out as
// text, exactly as appendField writes its decoded Value; ok is false when
// the value must be decoded (tc.Value) instead.
func appendTextField(b []byte, tc engine.TextCells, row, col int, decimal bool, o mapOptions) ([]byte, bool) {
	k, s, ok := tc.Text(row, col)
	if !ok {
		return b, false
	}
	switch k {
	case engine.KindNull:
		return append(b, `{"isNull":true}`...), true
	case engine.KindBool:
		b = append(b, `{"booleanValue":`...)
		return append(append(b, s...), '}'), true
	case engine.KindLong:
		if o.longAsString {
			return append(appendString(append(b, `{"stringValue":`...), s), '}'), true
		}
		b = append(b, `{"longValue":`...)
		return append(append(b, s...), '}'), true
	case engine.KindDouble:
		if out, ok := appendDoubleText(append(b, `{"doubleValue":`...), s); ok {
			return append(out, '}'), true
		}
		return b, false
	case engine.KindString:
		if decimal && o.decimalAsNumber {
			return b, false
		}
		return append(appendString(append(b, `{"stringValue":`...), s), '}'), true
	}
	return b, false
}

// appendDoubleText writes a double given as text whose significant digits
// are the value's shortest round-trip digits (engine.TextCells) exactly as
// appendDouble writes the parsed value, rearranging the digits instead of
// parsing and formatting them. ok is false (and b unchanged) for text it
// does not recognise.
func appendDoubleText(b []byte, s string) (_ []byte, ok bool) {
	switch s {
	case "NaN":
		return append(b, `"NaN"`...), true
	case "Infinity":
		return append(b, `"Infinity"`...), true
	case "-Infinity":
		return append(b, `"-Infinity"`...), true
	}
	var d [24]byte
	neg, digits, point, ok := splitDecimal(s, d[:0])
	if !ok {
		return b, false
	}
	if neg {
		b = append(b, '-')
	}
	if len(digits) == 0 {
		return append(b, "0.0"...), true
	}
	x := point - 1 // the value is d.ddd × 10^x
	switch {
	case x >= 0 && x <= 6:
		if len(digits) <= x+1 {
			b = append(b, digits...)
			for range x + 1 - len(digits) {
				b = append(b, '0')
			}
			return append(b, ".0"...), true
		}
		b = append(b, digits[:x+1]...)
		return append(append(b, '.'), digits[x+1:]...), true
	case x < 0 && x >= -3:
		b = append(b, "0."...)
		for range -x - 1 {
			b = append(b, '0')
		}
		return append(b, digits...), true
	}
	b = append(b, digits[0], '.')
	if len(digits) == 1 {
		b = append(b, '0')
	} else {
		b = append(b, digits[1:]...)
	}
	b = append(b, 'E')
	if x < 0 {
		b, x = append(b, '-'), -x
	}
	return strconv.AppendInt(b, int64(x), 10), true
}

// splitDecimal reads ['-'] digits ['.' digits] [('e'|'E') ['+'|'-']
// digits] into its significant digits (appended to buf, without leading
// or trailing zeros; empty for zero) and the position of the decimal point
// relative to them: the value is 0.digits × 10^point. ok is false for
// anything else, or more than 17 significant digits.
func splitDecimal(s string, buf []byte) (neg bool, digits []byte, point int, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		neg, i = true, 1
	}
	seen, dot := false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seen = true
			if c == '0' && len(buf) == 0 {
				if dot {
					point--
				}
				continue
			}
			if len(buf) == cap(buf) {
				return false, nil, 0, false
			}
			buf = append(buf, c)
			if !dot {
				point++
			}
		case c == '.' && !dot:
			dot = true
		case c == 'e' || c == 'E':
			exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
			if err != nil || !seen || exp > 400 || exp < -400 || (i+1 < len(s) && s[i+1] == '+' && len(s) > i+2 && s[i+2] == '-') {
				return false, nil, 0, false
			}
			point += exp
			i = len(s)
		default:
			return false, nil, 0, false
		}
	}
	if !seen {
		return false, nil, 0, false
	}
	for len(buf) > 0 && buf[len(buf)-1] == '0' {
		buf = buf[:len(buf)-1]
	}
	if len(buf) > 17 {
		return false, nil, 0, false
	}
	return neg, buf, point, true
}

// decimalNumber applies decimalReturnType=DOUBLE_OR_LONG: longValue when the
// scale is 0, else doubleValue.
func decimalNumber(s string) (engine.Value, bool) {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return engine.Long(n), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return engine.Value{}, false
	}
	return engine.Double(f), true
}

// appendArray writes an ArrayValue union: {"longValues":[1,null]} etc.
func appendArray(b []byte, v engine.Value) []byte {
	var key string
	switch v.ElemKind {
	case engine.KindBool:
		key = "booleanValues"
	case engine.KindLong:
		key = "longValues"
	case engine.KindDouble:
		key = "doubleValues"
	case engine.KindArray:
		key = "arrayValues"
	default:
		key = "stringValues"
	}
	b = append(b, `{"`...)
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, e := range v.Array {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendArrayElem(b, e)
	}
	return append(b, "]}"...)
}

func appendArrayElem(b []byte, e engine.Value) []byte {
	switch e.Kind {
	case engine.KindBool:
		return strconv.AppendBool(b, e.Bool)
	case engine.KindLong:
		return strconv.AppendInt(b, e.Long, 10)
	case engine.KindDouble:
		return appendDouble(b, e.Double)
	case engine.KindString:
		return appendString(b, e.String)
	case engine.KindBlob:
		return appendString(b, base64.StdEncoding.EncodeToString(e.Blob))
	case engine.KindArray:
		return appendArray(b, e)
	}
	return append(b, "null"...)
}

// appendJSONValue writes a value for formatRecordsAs=JSON.
func appendJSONValue(b []byte, v engine.Value, decimal bool, o mapOptions) []byte {
	switch v.Kind {
	case engine.KindBool:
		return strconv.AppendBool(b, v.Bool)
	case engine.KindLong:
		if o.longAsString {
			return appendString(b, strconv.FormatInt(v.Long, 10))
		}
		return strconv.AppendInt(b, v.Long, 10)
	case engine.KindDouble:
		if math.IsNaN(v.Double) || math.IsInf(v.Double, 0) {
			return append(b, "null"...)
		}
		return appendDouble(b, v.Double)
	case engine.KindString:
		if decimal && o.decimalAsNumber {
			if n, ok := decimalNumber(v.String); ok {
				return appendJSONValue(b, n, false, o)
			}
		}
		return appendString(b, v.String)
	case engine.KindBlob:
		return appendString(b, base64.StdEncoding.EncodeToString(v.Blob))
	case engine.KindArray:
		b = append(b, '[')
		for i, e := range v.Array {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e, false, o)
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

func appendColumn(b []byte, c engine.Column) []byte {
	b = append(b, `{"arrayBaseColumnType":`...)
	b = strconv.AppendInt(b, int64(c.ArrayBaseColumnType), 10)
	b = appendBoolMember(b, "isAutoIncrement", c.IsAutoIncrement)
	b = appendBoolMember(b, "isCaseSensitive", c.IsCaseSensitive)
	b = appendBoolMember(b, "isCurrency", c.IsCurrency)
	b = appendBoolMember(b, "isSigned", c.IsSigned)
	b = appendString(append(b, `,"label":`...), c.Label)
	b = appendString(append(b, `,"name":`...), c.Name)
	b = strconv.AppendInt(append(b, `,"nullable":`...), int64(c.Nullable), 10)
	b = strconv.AppendInt(append(b, `,"precision":`...), int64(c.Precision), 10)
	b = strconv.AppendInt(append(b, `,"scale":`...), int64(c.Scale), 10)
	b = appendString(append(b, `,"schemaName":`...), c.SchemaName)
	b = appendString(append(b, `,"tableName":`...), c.TableName)
	b = strconv.AppendInt(append(b, `,"type":`...), int64(c.Type), 10)
	b = appendString(append(b, `,"typeName":`...), c.TypeName)
	return append(b, '}')
}

func appendBoolMember(b []byte, name string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}
