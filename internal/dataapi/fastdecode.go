package dataapi

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeExecuteFast decodes the common shape of an ExecuteStatement body
// into req without reflection: the known members, each once, with string,
// boolean and number values, and parameters whose values are scalars. It
// reports false for anything else — unknown or repeated members, null,
// \u escapes, invalid UTF-8, arrayValue, any syntax error — and the caller
// then decodes with encoding/json, which gives the result or the error.
// Whatever it accepts it decodes exactly as json.Unmarshal would (the fuzz
// target FuzzDecodeExecuteFast checks this).
func decodeExecuteFast(body []byte, req *executeRequest) bool {
	d := fastDecoder{b: body}
	var r executeRequest
	if !d.object(func(key string) bool { return d.executeMember(key, &r) }) {
		return false
	}
	d.ws()
	if d.i != len(d.b) {
		return false
	}
	*req = r
	return true
}

// fastDecoder is a cursor over a JSON document.
type fastDecoder struct {
	b    []byte
	i    int
	seen uint32 // members of the object being decoded, by bit
}

func (d *fastDecoder) executeMember(key string, r *executeRequest) bool {
	var ok bool
	switch key {
	case "resourceArn":
		ok = d.once(0) && d.str(&r.ResourceARN)
	case "secretArn":
		ok = d.once(1) && d.str(&r.SecretARN)
	case "sql":
		r.SQL = new(string)
		ok = d.once(2) && d.str(r.SQL)
	case "database":
		ok = d.once(3) && d.str(&r.Database)
	case "schema":
		r.Schema = new(string)
		ok = d.once(4) && d.str(r.Schema)
	case "transactionId":
		ok = d.once(5) && d.str(&r.TransactionID)
	case "formatRecordsAs":
		ok = d.once(6) && d.str(&r.FormatRecordsAs)
	case "includeResultMetadata":
		ok = d.once(7) && d.boolean(&r.IncludeResultMetadata)
	case "continueAfterTimeout":
		ok = d.once(8) && d.boolean(&r.ContinueAfterTimeout)
	case "parameters":
		ok = d.once(9) && d.parameters(&r.Parameters)
	}
	return ok
}

// once marks member bit of the current object seen; false if it was.
func (d *fastDecoder) once(bit uint) bool {
	if d.seen&(1<<bit) != 0 {
		return false
	}
	d.seen |= 1 << bit
	return true
}

func (d *fastDecoder) parameters(out *[]sqlParameter) bool {
	d.ws()
	if !d.eat('[') {
		return false
	}
	ps := make([]sqlParameter, 0, 4)
	d.ws()
	if d.eat(']') {
		*out = ps
		return true
	}
	for {
		var p sqlParameter
		if !d.object(func(key string) bool { return d.parameterMember(key, &p) }) {
			return false
		}
		ps = append(ps, p)
		d.ws()
		if d.eat(']') {
			*out = ps
			return true
		}
		if !d.eat(',') {
			return false
		}
	}
}

func (d *fastDecoder) parameterMember(key string, p *sqlParameter) bool {
	switch key {
	case "name":
		return d.once(0) && d.str(&p.Name)
	case "typeHint":
		return d.once(1) && d.str(&p.TypeHint)
	case "value":
		p.Value = new(fieldJSON)
		return d.once(2) && d.object(func(key string) bool { return d.fieldMember(key, p.Value) })
	}
	return false
}

func (d *fastDecoder) fieldMember(key string, f *fieldJSON) bool {
	switch key {
	case "isNull":
		f.IsNull = new(bool)
		return d.once(0) && d.boolean(f.IsNull)
	case "booleanValue":
		f.BooleanValue = new(bool)
		return d.once(1) && d.boolean(f.BooleanValue)
	case "longValue":
		n, ok := d.number()
		num := json.Number(n)
		f.LongValue = &num
		return ok && d.once(2)
	case "doubleValue":
		n, ok := d.number()
		raw := json.RawMessage(n)
		f.DoubleValue = &raw
		return ok && d.once(3)
	case "stringValue":
		f.StringValue = new(string)
		return d.once(4) && d.str(f.StringValue)
	case "blobValue":
		f.BlobValue = new(string)
		return d.once(5) && d.str(f.BlobValue)
	}
	return false
}

// object decodes {"key": value, …}, calling member for each key with the
// cursor before the value. Seen-member bits are per object.
func (d *fastDecoder) object(member func(key string) bool) bool {
	outer := d.seen
	d.seen = 0
	defer func() { d.seen = outer }()
	d.ws()
	if !d.eat('{') {
		return false
	}
	d.ws()
	if d.eat('}') {
		return true
	}
	for {
		d.ws()
		var key string
		if !d.str(&key) {
			return false
		}
		d.ws()
		if !d.eat(':') || !member(key) {
			return false
		}
		d.ws()
		if d.eat('}') {
			return true
		}
		if !d.eat(',') {
			return false
		}
	}
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *fastDecoder) boolean(out *bool) bool {
	d.ws()
	switch {
	case hasAt(d.b, d.i, "true"):
		*out, d.i = true, d.i+4
		return true
	case hasAt(d.b, d.i, "false"):
		*out, d.i = false, d.i+5
		return true
	}
	return false
}

func hasAt(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// str decodes a string with the simple escapes; \u escapes, control
// characters and invalid UTF-8 are left to encoding/json.
func (d *fastDecoder) str(out *string) bool {
	d.ws()
	if !d.eat('"') {
		return false
	}
	start := d.i
	var buf []byte // only when there are escapes
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			seg := d.b[start:d.i]
			d.i++
			if buf != nil {
				seg = append(buf, seg...) // every segment, not just the last
			}
			if !utf8.Valid(seg) {
				return false
			}
			*out = string(seg)
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return false
			}
			e := unescape(d.b[d.i+1])
			if e == 0 {
				return false
			}
			buf = append(append(buf, d.b[start:d.i]...), e)
			d.i += 2
			start = d.i
		default:
			d.i++
		}
	}
	return false
}

func unescape(c byte) byte {
	switch c {
	case '"', '\\', '/':
		return c
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return 0
}

// number returns the text of a JSON number (RFC 8259 grammar).
func (d *fastDecoder) number() (string, bool) {
	d.ws()
	start := d.i
	d.eat('-')
	switch {
	case d.eat('0'):
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return "", false
	}
	if d.eat('.') && !d.digits() {
		return "", false
	}
	if d.eat('e') || d.eat('E') {
		if !d.eat('+') {
			d.eat('-')
		}
		if !d.digits() {
			return "", false
		}
	}
	return string(d.b[start:d.i]), true
}

// digits consumes one or more digits.
func (d *fastDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}
