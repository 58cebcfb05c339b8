package iam

import (
	"net/netip"
	"strings"
	"time"
)

// tri is a three-valued truth: a statement or condition that cannot be
// decided (unknown condition key absent from the request, unresolvable
// policy variable, malformed request value) is unknown, and unknown fails
// closed: an unknown Allow grants nothing, an unknown Deny denies.
type tri uint8

const (
	no tri = iota
	yes
	unknown
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// and and or are Kleene's: a definite no (yes) decides and (or) regardless
// of unknowns.
func and(a, b tri) tri {
	if a == no || b == no {
		return no
	}
	if a == unknown || b == unknown {
		return unknown
	}
	return yes
}

func or(a, b tri) tri {
	if a == yes || b == yes {
		return yes
	}
	if a == unknown || b == unknown {
		return unknown
	}
	return no
}

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

// evalConditions ANDs the conditions of a statement.
func evalConditions(conds []condition, ec *evalCtx) tri {
	r := yes
	for i := range conds {
		r = and(r, conds[i].eval(ec))
		if r == no {
			return no
		}
	}
	return r
}

// eval evaluates one condition. Missing-key rules, from the condition
// operators page: a missing key makes the condition false, except that
// negated operators (StringNotEquals, ArnNotLike, NotIpAddress, …) are then
// true, …IfExists is true, and Null tests presence itself. ForAllValues is
// true for a missing key and ForAnyValue false (single-vs-multivalued page).
func (c *condition) eval(ec *evalCtx) tri {
	vals, present := ec.lookup(c.key)
	if !present && (!c.known || ec.unsupported(c.key)) {
		// Unknown keys (typos) and keys AWS would supply but sqlgate
		// cannot fail closed.
		return unknown
	}
	if c.op.fam == famNull {
		// "Null": {"k": "true"} means the key is absent.
		for i := range c.values {
			if c.values[i].b != present {
				return yes
			}
		}
		return no
	}
	if !present {
		switch {
		case c.ifExists, c.set == setForAll:
			return yes
		case c.set == setForAny:
			return no
		}
		return truth(c.op.negate)
	}
	switch c.set {
	case setForAll: // every request value matches
		r := yes
		for i := 0; i < vals.len(); i++ {
			if r = and(r, c.matchOne(vals.at(i), ec)); r == no {
				return no
			}
		}
		return r
	case setForAny: // at least one request value matches
		r := no
		for i := 0; i < vals.len(); i++ {
			if r = or(r, c.matchOne(vals.at(i), ec)); r == yes {
				return yes
			}
		}
		return r
	}
	// No qualifier: the positive operator matches when any request value
	// matches any policy value; the negated one when none does (AWS: the
	// values of a negated operator are NORed).
	r := no
	for i := 0; i < vals.len() && r != yes; i++ {
		r = or(r, c.matchAny(vals.at(i), ec))
	}
	if c.op.negate {
		return r.not()
	}
	return r
}

// matchOne applies the (possibly negated) operator to one request value,
// for the set qualifiers.
func (c *condition) matchOne(v string, ec *evalCtx) tri {
	r := c.matchAny(v, ec)
	if c.op.negate {
		return r.not()
	}
	return r
}

// matchAny reports whether request value v matches any policy value under
// the positive form of the operator.
func (c *condition) matchAny(v string, ec *evalCtx) tri {
	switch c.op.fam {
	case famBool:
		b, ok := parseBool(v)
		if !ok {
			return unknown
		}
		for i := range c.values {
			if c.values[i].b == b {
				return yes
			}
		}
		return no
	case famIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return unknown
		}
		a = a.Unmap().WithZone("")
		for i := range c.values {
			if c.values[i].pfx.Contains(a) {
				return yes
			}
		}
		return no
	case famDate:
		t, ok := parseDate(v)
		if !ok {
			return unknown
		}
		for i := range c.values {
			if compare(c.op.cmp, t.Compare(c.values[i].t)) {
				return yes
			}
		}
		return no
	case famNumeric:
		n, ok := parseNumber(v)
		if !ok {
			return unknown
		}
		for i := range c.values {
			if compare(c.op.cmp, cmpFloat(n, c.values[i].num)) {
				return yes
			}
		}
		return no
	}
	r := no
	for i := range c.values {
		if r = or(r, c.matchString(&c.values[i], v, ec)); r == yes {
			return yes
		}
	}
	return r
}

// matchString handles the string and ARN families, resolving policy
// variables when the value has them.
func (c *condition) matchString(pv *condValue, v string, ec *evalCtx) tri {
	if pv.tmpl == nil {
		switch c.op.fam {
		case famString:
			return truth(v == pv.str)
		case famStringIC:
			return truth(strings.EqualFold(v, pv.str))
		case famStringLike:
			return truth(pv.pat.match(v))
		default:
			return truth(matchARN(pv.arn, v))
		}
	}
	if c.op.fam == famString || c.op.fam == famStringIC {
		s, ok := pv.tmpl.resolveString(ec)
		switch {
		case !ok:
			return unknown
		case c.op.fam == famStringIC:
			return truth(strings.EqualFold(v, s))
		}
		return truth(v == s)
	}
	pieces, ok := pv.tmpl.resolve(ec)
	if !ok {
		return unknown
	}
	if c.op.fam == famStringLike {
		p := compilePieces(pieces, false)
		return truth(p.match(v))
	}
	return truth(matchARN(compileARN(pieces), v))
}

func compare(op cmpOp, c int) bool {
	switch op {
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	}
	return c == 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// now is the evaluation clock, replaceable in tests.
var now = time.Now
