package pgproxy

import (
	"unsafe"

	"github.com/sqlgate/sqlgate/internal/sqlshape"
)

// Texts of one shape (package sqlshape). The digits of a numeric literal
// cannot change how the statement classifies: no mark, keyword or
// function name the classifier reads has a digit that stands alone, and
// digits cannot open or close a literal, a quoted name or a comment. So a text that differs from the
// last one classified only in such digits has the last one's class, and
// classifyQuery compares instead of scanning again.
//
// The same holds for the text of a plain string literal ('…', led by
// nothing that makes it another kind of string, without a backslash,
// whose escapes depend on a server setting) when it holds none of the
// texts the classifier looks for anywhere (its marks, a semicolon). When
// the last text was classified, stringSpans found where its literals are;
// sameShapeStrings then also lets b hold other such literals there.
//
// A run of digits counts as a numeric literal when the byte before it
// cannot continue a name (letter, underscore, dollar sign, byte of a
// multi-byte character), a quoted name or string ('"' and '\''), or lead
// a Unicode string (U&'…'). The
// rule is stricter than the SQL grammar needs: every text it accepts
// classifies as its pair does (FuzzSameShapeClass checks this against
// the classifier), and whatever it turns down is scanned as before.

// pgNumbers is the numeric-literal rule of sameShape: any byte may follow
// a number (PostgreSQL reads "1abc" as 1 and abc).
var pgNumbers = sqlshape.NewRule(mayLeadNumber, func(byte) bool { return true })

// sameShape reports whether a and b are equal but for the digits of
// numeric literals (see above).
func sameShape(a, b []byte) bool { return pgNumbers.Same(a, b) }

// maxShapeStrings bounds the string literals a session keeps the places
// of; a text with more is matched on its numbers only.
const maxShapeStrings = 16

// stringSpans returns, into spans[:0], the start and end (past its
// closing quote) of each plain string literal of sql, in order; none when
// sql holds none, or anything the shortcut does not read for certain: a
// dollar sign (a dollar quote or a parameter), a backslash, a literal that
// is not plain, an unterminated quote or comment, more than
// maxShapeStrings literals.
func stringSpans(sql []byte, spans []int32) []int32 {
	spans = spans[:0]
	text := unsafe.String(unsafe.SliceData(sql), len(sql))
	for i := 0; i < len(sql); {
		switch c := sql[i]; {
		case c == '$' || c == '\\':
			return spans[:0]
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			i = lineCommentEnd(text, i)
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if i = blockCommentEnd(text, i); i < 0 {
				return spans[:0]
			}
		case c == '"':
			if i = quotedEnd(sql, i, '"'); i < 0 {
				return spans[:0]
			}
		case c == '\'':
			end := plainStringEnd(sql, i)
			if end < 0 || i > 0 && !mayLeadNumber(sql[i-1]) || len(spans) == 2*maxShapeStrings {
				return spans[:0]
			}
			spans = append(spans, int32(i), int32(end))
			i = end
		default:
			i++
		}
	}
	return spans
}

// sameShapeStrings is sameShape where a's plain string literals are at
// spans (stringSpans): b may hold other plain literals in their places.
func sameShapeStrings(a, b []byte, spans []int32) bool {
	prev, j, lead := 0, 0, true
	for k := 0; k+1 < len(spans); k += 2 {
		n, ok := pgNumbers.Match(a[prev:spans[k]], b[j:], lead)
		if !ok {
			return false
		}
		j += n
		end := plainStringEnd(b, j)
		if end < 0 {
			return false
		}
		prev, j, lead = int(spans[k+1]), end, false
	}
	n, ok := pgNumbers.Match(a[prev:], b[j:], lead)
	return ok && j+n == len(b)
}

// plainStringEnd returns the end of the plain string literal at s[i]
// (past its closing quote), or -1: no quote there, no closing one, a
// backslash, or a mark or semicolon in its text.
func plainStringEnd(s []byte, i int) int {
	end := quotedEnd(s, i, '\'')
	if end < 0 {
		return -1
	}
	text := s[i+1 : end-1]
	for _, c := range text {
		if c == '\\' || c == ';' {
			return -1
		}
	}
	if m, _ := scanText(unsafe.String(unsafe.SliceData(text), len(text))); m != 0 {
		return -1
	}
	return end
}

// quotedEnd returns the end of the text quoted by q at s[i] (past the
// closing q; a doubled q stands for itself), or -1.
func quotedEnd(s []byte, i int, q byte) int {
	if i >= len(s) || s[i] != q {
		return -1
	}
	for j := i + 1; j < len(s); j++ {
		if s[j] != q {
			continue
		}
		if j+1 < len(s) && s[j+1] == q {
			j++
			continue
		}
		return j + 1
	}
	return -1
}

// mayLeadNumber reports whether a run of digits after c is a numeric
// literal of its own, not part of a name or a quoted text's start.
func mayLeadNumber(c byte) bool {
	switch {
	case c >= 0x80, c == '_', c == '$', c == '"', c == '\'', c == '&':
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
