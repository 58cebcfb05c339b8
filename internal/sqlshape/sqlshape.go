// Package sqlshape compares query texts that differ only in the digits
// of their numeric literals.
//
// A client that writes its values into the query text (drivers that
// interpolate parameters on the client side, pgbench -M simple, PHP's
// emulated prepares) sends the same statement again and again with other
// numbers in it. What a proxy learns from reading a statement — does it
// change the session, may it share a connection write — does not depend
// on those digits, so a proxy that keeps the last text it read and what
// it found can compare the next text with it instead of reading it
// again: a comparison of bytes, eight at a time, against a lexer's pass.
//
// Which runs of digits are numeric literals of their own depends on the
// dialect: a Rule says which bytes may stand before and after one. Both
// proxies make their rule stricter than their grammar needs, and fuzz
// it against their own reader (a text the rule pairs must read the same).
package sqlshape

import (
	"encoding/binary"
	"math/bits"
)

// Rule is a dialect's notion of a numeric literal's digits: a run of
// digits is one when the byte before it may lead a number (Before) and
// the byte after it may follow one (After). The start of the text leads;
// the end follows.
type Rule struct {
	Before, After [256]bool
}

// NewRule returns the Rule that accepts every byte for which before, and
// after, report true.
func NewRule(before, after func(c byte) bool) *Rule {
	r := &Rule{}
	for c := range 256 {
		r.Before[c], r.After[c] = before(byte(c)), after(byte(c))
	}
	return r
}

// Same reports whether a and b are equal but for the digits of numeric
// literals.
func (r *Rule) Same(a, b []byte) bool {
	n, ok := r.Match(a, b, true)
	return ok && n == len(b)
}

// Match matches all of a against the start of b, the digits of numeric
// literals aside, and returns how much of b it matched. lead: a run of
// digits at a[0] may be a number (a starts the text, or a byte that leads
// one precedes it). A run that ends a ends a number.
func (r *Rule) Match(a, b []byte, lead bool) (n int, ok bool) {
	for {
		i := CommonPrefix(a, b)
		if i == len(a) && (i == len(b) || !IsDigit(b[i])) {
			return n + i, true
		}
		start := i
		for start > 0 && IsDigit(a[start-1]) {
			start--
		}
		if start > 0 && !r.Before[a[start-1]] || start == 0 && !lead {
			return 0, false
		}
		endA, endB := digitsFrom(a, i), digitsFrom(b, i)
		if endA == start || endB == start { // a run of digits on one side only
			return 0, false
		}
		if endA < len(a) && !r.After[a[endA]] {
			return 0, false
		}
		// What follows a run is not a digit: the next difference's run
		// cannot begin at a[0], and lead does not matter there.
		a, b, n, lead = a[endA:], b[endB:], n+endB, true
	}
}

// CommonPrefix returns the length of the longest common prefix of a and
// b, comparing eight bytes at a time.
func CommonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// IsDigit reports an ASCII digit.
func IsDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitsFrom returns the end of the run of digits starting at s[i].
func digitsFrom(s []byte, i int) int {
	for i < len(s) && IsDigit(s[i]) {
		i++
	}
	return i
}
