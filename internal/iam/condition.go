package iam

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Condition operators, as documented in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// and set qualifiers from
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

type family uint8

const (
	famString family = iota
	famStringIC
	famStringLike
	famArn // ArnEquals and ArnLike behave the same: per-component wildcard match
	famBool
	famIP
	famDate
	famNumeric
	famNull
)

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// operator is a base condition operator. negate marks the "Not" forms.
type operator struct {
	fam    family
	cmp    cmpOp
	negate bool
}

var operators = map[string]operator{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, negate: true},
	"StringEqualsIgnoreCase":    {fam: famStringIC},
	"StringNotEqualsIgnoreCase": {fam: famStringIC, negate: true},
	"StringLike":                {fam: famStringLike},
	"StringNotLike":             {fam: famStringLike, negate: true},
	"ArnEquals":                 {fam: famArn},
	"ArnLike":                   {fam: famArn},
	"ArnNotEquals":              {fam: famArn, negate: true},
	"ArnNotLike":                {fam: famArn, negate: true},
	"Bool":                      {fam: famBool},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, negate: true},
	"DateEquals":                {fam: famDate},
	"DateNotEquals":             {fam: famDate, negate: true},
	"DateLessThan":              {fam: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {fam: famDate, cmp: cmpLe},
	"DateGreaterThan":           {fam: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {fam: famDate, cmp: cmpGe},
	"NumericEquals":             {fam: famNumeric},
	"NumericNotEquals":          {fam: famNumeric, negate: true},
	"NumericLessThan":           {fam: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {fam: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {fam: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, cmp: cmpGe},
	"Null":                      {fam: famNull},
}

type setQual uint8

const (
	setNone setQual = iota
	setForAll
	setForAny
)

// condition is one (operator, key, values) triple. Within a Condition
// element all conditions are ANDed; the values of one condition are ORed.
type condition struct {
	op       operator
	ifExists bool
	set      setQual
	key      string // lower-case: condition key names are case-insensitive
	known    bool   // key is one sqlgate knows may legitimately be absent
	values   []condValue
}

// condValue is one compiled policy-side value.
type condValue struct {
	str  string    // string families (literal), also ARN text
	tmpl *template // non-nil when the value has policy variables
	pat  pattern   // famStringLike without variables
	arn  []pattern // famArn without variables: one pattern per component
	num  float64
	t    time.Time
	pfx  netip.Prefix
	b    bool
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(name string) (op operator, set setQual, ifExists, ok bool) {
	base := name
	if rest, found := strings.CutPrefix(base, "ForAllValues:"); found {
		base, set = rest, setForAll
	} else if rest, found := strings.CutPrefix(base, "ForAnyValue:"); found {
		base, set = rest, setForAny
	}
	if rest, found := strings.CutSuffix(base, "IfExists"); found {
		base, ifExists = rest, true
	}
	op, ok = operators[base]
	if ok && op.fam == famNull && (ifExists || set != setNone) {
		ok = false // Null already tests existence; AWS has no NullIfExists
	}
	return op, set, ifExists, ok
}

// compileConditions compiles a Condition element.
func compileConditions(raw json.RawMessage, path string, vars bool) ([]condition, error) {
	ops, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	var out []condition
	for _, o := range ops {
		op, set, ifExists, ok := parseOperator(o.name)
		if !ok {
			return nil, parseErr(path, "unknown operator %q", o.name)
		}
		keys, err := decodeObject(o.val, path+"."+o.name)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, parseErr(path+"."+o.name, "must name at least one condition key")
		}
		for _, k := range keys {
			kp := path + "." + o.name + "." + k.name
			if !validKeyName(k.name) {
				return nil, parseErr(kp, "invalid condition key %q", k.name)
			}
			c := condition{op: op, set: set, ifExists: ifExists, key: strings.ToLower(k.name)}
			c.known = knownKey(c.key)
			raws, err := decodeScalars(k.val, kp)
			if err != nil {
				return nil, err
			}
			for _, s := range raws {
				v, err := compileValue(op.fam, s, vars)
				if err != nil {
					return nil, parseErr(kp, "%v", err)
				}
				c.values = append(c.values, v)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// compileValue type-checks and compiles one policy-side value. Variables are
// supported for the string and ARN families only.
func compileValue(fam family, s string, vars bool) (condValue, error) {
	var v condValue
	switch fam {
	case famString, famStringIC, famStringLike, famArn:
		t, err := parseTemplate(s, vars)
		if err != nil {
			return v, err
		}
		if t.dynamic {
			v.tmpl = &t
			return v, nil
		}
		pieces := t.static()
		switch fam {
		case famStringLike:
			v.pat = compilePieces(pieces, false)
		case famArn:
			v.arn = compileARN(pieces)
		default:
			for _, p := range pieces {
				v.str += p.text
			}
		}
	case famBool, famNull:
		b, ok := parseBool(s)
		if !ok {
			return v, fmt.Errorf("%q is not a boolean (want \"true\" or \"false\")", s)
		}
		v.b = b
	case famIP:
		p, ok := parsePrefix(s)
		if !ok {
			return v, fmt.Errorf("%q is not an IP address or CIDR block", s)
		}
		v.pfx = p
	case famDate:
		t, ok := parseDate(s)
		if !ok {
			return v, fmt.Errorf("%q is not a date (want ISO 8601 such as 2026-01-02T15:04:05Z, or epoch seconds)", s)
		}
		v.t = t
	case famNumeric:
		n, ok := parseNumber(s)
		if !ok {
			return v, fmt.Errorf("%q is not a number", s)
		}
		v.num = n
	}
	return v, nil
}

// compileARN splits an ARN pattern into at most six colon-separated
// components, each matched separately (ArnLike semantics). When the pattern
// has fewer components, its last one matches the rest of the ARN.
func compileARN(pieces []piece) []pattern {
	var comps [][]piece
	cur := []piece{}
	for _, p := range pieces {
		text := p.text
		for {
			i := strings.IndexByte(text, ':')
			if i < 0 || len(comps) == 5 {
				cur = append(cur, piece{text: text, wild: p.wild})
				break
			}
			cur = append(cur, piece{text: text[:i], wild: p.wild})
			comps = append(comps, cur)
			cur = []piece{}
			text = text[i+1:]
		}
	}
	comps = append(comps, cur)
	pats := make([]pattern, len(comps))
	for i, c := range comps {
		pats[i] = compilePieces(c, false)
	}
	return pats
}

// matchARN matches an ARN against per-component patterns.
func matchARN(pats []pattern, arn string) bool {
	for i := range pats {
		if i == len(pats)-1 {
			return pats[i].match(arn)
		}
		j := strings.IndexByte(arn, ':')
		if j < 0 || !pats[i].match(arn[:j]) {
			return false
		}
		arn = arn[j+1:]
	}
	return false
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parsePrefix parses "203.0.113.0/24", "2001:db8::/32" or a single address.
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// dateLayouts are the ISO 8601 forms accepted for dates; a bare epoch
// number is accepted as well.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseNumber(s string) (float64, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}
