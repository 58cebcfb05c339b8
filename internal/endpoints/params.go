package endpoints

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
)

// param is one compiled config.Param.
type param struct {
	name     string // the :name in the SQL
	wire     string // body field, query parameter, header or path segment name
	from     string // body | query | path | header
	typ      string // string | integer | number | boolean
	required bool
	maxLen   int
	min, max *float64
	re       *regexp.Regexp
	desc     string
}

// decoder turns a request into the SQL parameters of one endpoint.
type decoder struct {
	params []*param // sorted by wire name, so errors name fields in a stable order
	body   map[string]*param
	query  map[string]*param
	// reservedQuery are query parameters handled elsewhere (limit, next).
	reservedQuery map[string]bool
}

func newDecoder(ps map[string]config.Param, reservedQuery ...string) (*decoder, error) {
	d := &decoder{body: map[string]*param{}, query: map[string]*param{}, reservedQuery: map[string]bool{}}
	for _, q := range reservedQuery {
		d.reservedQuery[q] = true
	}
	for name, p := range ps {
		cp := &param{name: name, wire: p.WireName(name), from: p.From, typ: p.Type,
			required: p.Required || p.From == "path", maxLen: p.MaxLength, min: p.Min, max: p.Max, desc: p.Description}
		if p.From == "header" {
			cp.wire = http.CanonicalHeaderKey(cp.wire)
		}
		if p.Pattern != "" {
			re, err := regexp.Compile(p.Pattern)
			if err != nil {
				return nil, err
			}
			cp.re = re
		}
		d.params = append(d.params, cp)
		switch p.From {
		case "body":
			d.body[cp.wire] = cp
		case "query":
			d.query[cp.wire] = cp
		}
	}
	sort.Slice(d.params, func(i, j int) bool { return d.params[i].wire < d.params[j].wire })
	return d, nil
}

// hasBody reports whether any param comes from the JSON body.
func (d *decoder) hasBody() bool { return len(d.body) > 0 }

// decode validates the request's fields and returns the SQL parameters,
// or a *ParamError naming the first bad field. path holds the path
// parameter values; body is the raw JSON body (empty = {}).
func (d *decoder) decode(path map[string]string, query url.Values, header http.Header, body []byte) ([]engine.Param, error) {
	fields, err := d.bodyFields(body)
	if err != nil {
		return nil, err
	}
	for k, vs := range query {
		if d.reservedQuery[k] {
			continue
		}
		if d.query[k] == nil {
			return nil, &ParamError{fieldName(k), "unknown query parameter"}
		}
		if len(vs) > 1 {
			return nil, &ParamError{k, "given more than once"}
		}
	}
	out := make([]engine.Param, 0, len(d.params))
	for _, p := range d.params {
		var v engine.Value
		var present bool
		var err error
		switch p.from {
		case "body":
			var raw json.RawMessage
			raw, present = fields[p.wire]
			if present && string(raw) == "null" {
				present = false
			}
			if present {
				v, err = p.fromJSON(raw)
			}
		case "query":
			var s string
			if vs, ok := query[p.wire]; ok {
				s, present = vs[0], true
			}
			if present {
				v, err = p.fromText(s)
			}
		case "header":
			var s string
			if vs := header.Values(p.wire); len(vs) > 0 {
				if len(vs) > 1 {
					return nil, &ParamError{p.wire, "given more than once"}
				}
				s, present = vs[0], true
			}
			if present {
				v, err = p.fromText(s)
			}
		case "path":
			var s string
			s, present = path[p.name]
			if present {
				v, err = p.fromText(s)
			}
		}
		if err != nil {
			return nil, err
		}
		if !present {
			if p.required {
				return nil, &ParamError{p.wire, "required"}
			}
			v = engine.Null()
		}
		out = append(out, engine.Param{Name: p.name, Value: v})
	}
	return out, nil
}

// bodyFields parses the body as one JSON object with declared fields only.
func (d *decoder) bodyFields(body []byte) (map[string]json.RawMessage, error) {
	if len(body) == 0 {
		return nil, nil
	}
	if !d.hasBody() {
		return nil, &ParamError{"body", "this endpoint takes no request body"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, &ParamError{"body", "want a JSON object"}
	}
	// Report unknown fields in a stable order.
	var unknown []string
	for k := range fields {
		if d.body[k] == nil {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &ParamError{fieldName(unknown[0]), "unknown field"}
	}
	return fields, nil
}

// fromJSON decodes a body field of the param's type.
func (p *param) fromJSON(raw json.RawMessage) (engine.Value, error) {
	switch p.typ {
	case "string":
		if len(raw) == 0 || raw[0] != '"' {
			return engine.Value{}, &ParamError{p.wire, "must be a string"}
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return engine.Value{}, &ParamError{p.wire, "must be a string"}
		}
		return p.checkString(s)
	case "integer":
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return engine.Value{}, &ParamError{p.wire, "must be an integer"}
		}
		return p.checkNumber(engine.Long(n), float64(n))
	case "number":
		if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
			return engine.Value{}, &ParamError{p.wire, "must be a number"}
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(f, 0) {
			return engine.Value{}, &ParamError{p.wire, "must be a number"}
		}
		return p.checkNumber(engine.Double(f), f)
	case "boolean":
		switch string(raw) {
		case "true":
			return engine.Bool(true), nil
		case "false":
			return engine.Bool(false), nil
		}
		return engine.Value{}, &ParamError{p.wire, "must be a boolean"}
	}
	return engine.Value{}, &ParamError{p.wire, "BUG: unknown type " + p.typ}
}

// fromText decodes a query, header or path value of the param's type.
func (p *param) fromText(s string) (engine.Value, error) {
	switch p.typ {
	case "string":
		if !utf8.ValidString(s) {
			return engine.Value{}, &ParamError{p.wire, "must be valid UTF-8"}
		}
		return p.checkString(s)
	case "integer":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return engine.Value{}, &ParamError{p.wire, "must be an integer"}
		}
		return p.checkNumber(engine.Long(n), float64(n))
	case "number":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return engine.Value{}, &ParamError{p.wire, "must be a number"}
		}
		return p.checkNumber(engine.Double(f), f)
	case "boolean":
		switch s {
		case "true":
			return engine.Bool(true), nil
		case "false":
			return engine.Bool(false), nil
		}
		return engine.Value{}, &ParamError{p.wire, "must be true or false"}
	}
	return engine.Value{}, &ParamError{p.wire, "BUG: unknown type " + p.typ}
}

func (p *param) checkString(s string) (engine.Value, error) {
	if p.maxLen > 0 && utf8.RuneCountInString(s) > p.maxLen {
		return engine.Value{}, &ParamError{p.wire, "longer than " + strconv.Itoa(p.maxLen) + " characters"}
	}
	if p.re != nil && !p.re.MatchString(s) {
		return engine.Value{}, &ParamError{p.wire, "does not match pattern " + p.re.String()}
	}
	return engine.String(s), nil
}

func (p *param) checkNumber(v engine.Value, f float64) (engine.Value, error) {
	if p.min != nil && f < *p.min {
		return engine.Value{}, &ParamError{p.wire, "less than " + strconv.FormatFloat(*p.min, 'g', -1, 64)}
	}
	if p.max != nil && f > *p.max {
		return engine.Value{}, &ParamError{p.wire, "greater than " + strconv.FormatFloat(*p.max, 'g', -1, 64)}
	}
	return v, nil
}

// fieldName names a request field in an error; an empty name is shown
// as "" so the error still names something.
func fieldName(k string) string {
	if k == "" {
		return `""`
	}
	return k
}
