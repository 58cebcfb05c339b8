package pgproxy

import (
	"encoding/binary"
	"math/bits"
)

// Texts of one shape. A client that writes its values into the query
// text (pgbench -M simple, drivers that interpolate parameters on the
// client side) sends the same statement again and again with other
// numbers in it. The digits of a numeric literal cannot change how the
// statement classifies: no mark, keyword or function name the classifier
// reads has a digit that stands alone, and digits cannot open or close a
// literal, a quoted name or a comment. So a text that differs from the
// last one classified only in such digits has the last one's class, and
// classifyQuery compares instead of scanning again: a comparison of
// bytes runs several times faster than the classifier's scan.
//
// A run of digits counts as a numeric literal when the byte before it
// cannot continue a name (letter, digit, underscore, dollar sign, byte of
// a multi-byte character) or a quoted name or string ('"' and '\''). The
// rule is stricter than the SQL grammar needs: every text it accepts
// classifies as its pair does (FuzzSameShapeClass checks this against
// the classifier), and whatever it turns down is scanned as before.

// sameShape reports whether a and b are equal but for the digits of
// numeric literals (see above).
func sameShape(a, b []byte) bool {
	for {
		i := commonPrefix(a, b)
		if i == len(a) && i == len(b) {
			return true
		}
		start := i
		for start > 0 && isDigit(a[start-1]) {
			start--
		}
		if start > 0 && !mayLeadNumber(a[start-1]) {
			return false
		}
		endA, endB := digitsFrom(a, i), digitsFrom(b, i)
		if endA == start || endB == start { // a run of digits on one side only
			return false
		}
		a, b = a[endA:], b[endB:]
	}
}

// commonPrefix returns the length of the longest common prefix of a and
// b, comparing eight bytes at a time.
func commonPrefix(a, b []byte) int {
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

// digitsFrom returns the end of the run of digits starting at s[i].
func digitsFrom(s []byte, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// mayLeadNumber reports whether a run of digits after c is a numeric
// literal of its own, not part of a name or a quoted text's start.
func mayLeadNumber(c byte) bool {
	switch {
	case c >= 0x80, c == '_', c == '$', c == '"', c == '\'':
		return false
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return false
	}
	return true
}

// shapeCacheable reports whether a query of class c may answer for the
// texts of its shape: only a plain statement that may share a backend
// write, the class nearly every such client sends.
func (c *sqlClass) shapeCacheable() bool {
	return c.pipe && c.pin == "" && c.dirty == "" && len(c.track) == 0 && !c.resetAll &&
		!c.deallocAll && c.deallocate == ""
}
