package mysqlproxy

import (
	"bytes"
	"strings"

	"github.com/sqlgate/sqlgate/internal/sqlshape"
)

// Texts of one shape (package sqlshape). A COM_QUERY that differs from
// the session's last one only in the digits of numeric literals scans as
// the last one did: the scan reads words, and a number is a word it maps
// to no keyword or function name (upperWord), whatever its digits; digits
// cannot open or close a string, a quoted name or a comment. So the last
// text's result answers, when it was a plain statement (pipeable: no pin,
// routine, session command or LAST_INSERT_ID), and the next text is
// compared instead of scanned: the case of every driver that interpolates
// its parameters on the client (PHP's emulated prepares, PyMySQL, the
// mysql and mysql2 modules' query).
//
// A run of digits is a numeric literal here when no byte that could make
// it part of a name stands next to it: MySQL names may start with a
// digit ("1abc"), so letters, digits, '_', '$' and multi-byte characters
// neither lead nor follow one, nor do the bytes that make it part of
// something else before it: a quote or backquote, a backslash escape, a
// variable's '@', an executable comment's '!' (its version). The rule is
// stricter than the grammar needs; FuzzScanShape checks every text it
// accepts against the scan.

// mysqlNumbers is the numeric-literal rule of the shortcut.
var mysqlNumbers = sqlshape.NewRule(
	func(c byte) bool { return !isWord(c) && strings.IndexByte("'\"`\\@!", c) < 0 },
	func(c byte) bool { return !isWord(c) },
)

// maxKeptQuery bounds the query text a session keeps for scanQuery.
const maxKeptQuery = 4 << 10

// scanQuery is scanSQL(sql), answered from the last text a session scanned
// when sql is the same text or of its shape (above).
func (c *session) scanQuery(sql []byte) scanResult {
	if len(sql) > maxKeptQuery {
		return scanSQL(sql)
	}
	if c.haveLast && (bytes.Equal(sql, c.lastSQL) || c.lastScan.pipeable() && mysqlNumbers.Same(sql, c.lastSQL)) {
		return c.lastScan
	}
	c.lastSQL = append(c.lastSQL[:0], sql...)
	c.lastScan, c.haveLast = scanSQL(sql), true
	return c.lastScan
}

// forgetQuery drops the kept text, for a session that goes idle.
func (c *session) forgetQuery() { c.lastSQL, c.haveLast = nil, false }
