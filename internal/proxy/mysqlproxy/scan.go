package mysqlproxy

// A lexical scan of COM_QUERY text for the statements RDS Proxy pins on
// and for LAST_INSERT_ID(). It is a hint layered on
// the authoritative signal, the backend's session-state trackers; it never
// decides transaction boundaries.

import (
	"bytes"
	"maps"
	"strconv"
	"strings"
)

// scanResult is what scanSQL found.
type scanResult struct {
	pin              string // pin reason, "" for none
	usesLastInsertID bool
	multi            bool // more than one statement
	// sessionCmd: the statement is a SET or USE, so a state change the
	// server reports for it is the one its text names.
	sessionCmd bool
	// routine: the statement may call a stored procedure or function
	// (CALL, or a function that is not built in); what runs inside is
	// invisible to the scan and only partly reported by the server.
	routine bool
	// verb is the statement's first word, upper case.
	verb string
	// noPipe: the statement calls a function that waits, takes or reads
	// session-scoped state (SLEEP, locks, sequences), so it never joins a
	// pipeline (pipeline.go).
	noPipe bool
}

// scanSQL scans sql, skipping string literals, quoted identifiers and
// comments (but not /*! executable comments */).
func scanSQL(sql []byte) scanResult { return scanWords(sql, upperWord) }

// scanWords is scanSQL with upper as the reading of each word (call: the
// word is followed by "(").
func scanWords(sql []byte, upper func(word []byte, call bool) string) scanResult {
	var r scanResult
	var prev string  // previous word
	var owner string // word before the current (possibly qualified) name
	first := true    // next word starts a statement
	sawFlush := false
	for i := 0; i < len(sql); {
		c := sql[i]
		if isSpace(c) { // the common separator: it changes nothing
			i++
			continue
		}
		switch {
		case isWord(c): // first: most bytes are words
			j := i
			for j < len(sql) && isWord(sql[j]) {
				j++
			}
			call := nextNonSpace(sql[j:]) == '('
			w := upper(sql[i:j], call)
			if pin := wordPin(w, prev, first, &sawFlush, sql[j:]); pin != "" {
				r.setPin(pin)
			}
			qualified := i > 0 && sql[i-1] == '.'
			if !qualified {
				owner = prev
			}
			if call {
				if w == "LAST_INSERT_ID" {
					r.usesLastInsertID = true
				}
				if noPipeCall[w] {
					r.noPipe = true
				}
				if (qualified || !builtin[w]) && !nameNotCall[owner] {
					r.routine = true
				}
			}
			if w == "NEXT" || w == "PREVIOUS" {
				r.noPipe = true // NEXT/PREVIOUS VALUE FOR a sequence
			}
			if first {
				if r.verb == "" {
					r.verb = w
				}
				switch w {
				case "SET", "USE":
					r.sessionCmd = !r.multi
				case "CALL":
					r.routine = true
				}
			}
			prev, first, i = w, false, j
			continue

		case c == '\'' || c == '"' || c == '`':
			start := i
			i = skipQuoted(sql, i)
			if c == '`' {
				// A quoted identifier: a routine name when called.
				if start == 0 || sql[start-1] != '.' {
					owner = prev
				}
				if nextNonSpace(sql[i:]) == '(' && !nameNotCall[owner] {
					r.routine = true
				}
				prev = "`"
			}
			first = false
			continue
		case c == '#' || (c == '-' && i+2 < len(sql) && sql[i+1] == '-' && (sql[i+2] == ' ' || sql[i+2] == '\t')):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if i+2 < len(sql) && (sql[i+2] == '!' || sql[i+2] == '+') {
				i += 3
				for i < len(sql) && sql[i] >= '0' && sql[i] <= '9' {
					i++ // the version of a /*!40101 … */ comment
				}
				continue
			}
			end := bytes.Index(sql[i+2:], []byte("*/"))
			if end < 0 {
				return r
			}
			i += end + 4
			continue
		case c == ';':
			i++
			for i < len(sql) && isSpace(sql[i]) {
				i++
			}
			if i < len(sql) {
				r.multi = true
			}
			first = true
			continue
		case c == '@':
			if i+1 < len(sql) && sql[i+1] == '@' {
				i += 2
				for i < len(sql) && (isWord(sql[i]) || sql[i] == '.') {
					i++
				}
				continue
			}
			if i > 0 && (sql[i-1] == '\'' || sql[i-1] == '"' || sql[i-1] == '`') {
				i++ // 'user'@'host'
				continue
			}
			r.setPin("user variable")
			i++
			continue
		}
		if c != '.' && !isSpace(c) {
			prev = "" // punctuation: the next name does not follow prev directly
		}
		i++
	}
	return r
}

func (r *scanResult) setPin(reason string) {
	if r.pin == "" {
		r.pin = reason
	}
}

func wordPin(w, prev string, first bool, sawFlush *bool, rest []byte) string {
	switch w {
	case "TEMPORARY":
		if prev == "CREATE" {
			return "temporary table"
		}
	case "TABLE", "TABLES":
		if prev == "LOCK" {
			return "LOCK TABLES"
		}
	case "FLUSH":
		*sawFlush = true
	case "LOCK":
		if *sawFlush && prev == "READ" {
			return "FLUSH TABLES WITH READ LOCK"
		}
	case "GET_LOCK":
		if nextNonSpace(rest) == '(' {
			return "GET_LOCK"
		}
	case "PREPARE":
		if first {
			return "PREPARE statement"
		}
	case "HANDLER":
		if first {
			return "HANDLER"
		}
	case "SQL_CALC_FOUND_ROWS":
		return "SQL_CALC_FOUND_ROWS"
	case "FOUND_ROWS", "ROW_COUNT":
		if nextNonSpace(rest) == '(' {
			return w + "()"
		}
	}
	return ""
}

func skipQuoted(s []byte, i int) int {
	q := s[i]
	i++
	for i < len(s) {
		switch s[i] {
		case '\\':
			if q != '`' {
				i += 2
				continue
			}
		case q:
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return i
}

func nextNonSpace(s []byte) byte {
	for _, c := range s {
		if !isSpace(c) {
			return c
		}
	}
	return 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWord(c byte) bool { return wordChars[c] }

// wordChars are the bytes of words: letters, digits, _, $ and every
// non-ASCII byte.
var wordChars = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	}
	return t
}()

// digest returns sql with literals replaced by ?, shortened, for the pin
// log line: statement shape without parameter values.
func digest(sql []byte) string {
	var b strings.Builder
	for i := 0; i < len(sql) && b.Len() < 200; {
		c := sql[i]
		switch {
		case c == '\'' || c == '"':
			i = skipQuoted(sql, i)
			b.WriteByte('?')
		case c >= '0' && c <= '9' && (i == 0 || !isWord(sql[i-1])):
			for i < len(sql) && (isWord(sql[i]) || sql[i] == '.') {
				i++
			}
			b.WriteByte('?')
		case isSpace(c):
			for i < len(sql) && isSpace(sql[i]) {
				i++
			}
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
			i++
		}
	}
	return strings.TrimSpace(b.String())
}

// mayBeKill reports whether sql may start with the word KILL: a text
// whose first byte other than ASCII white space is ASCII and does not
// start "kill" in any case is not a KILL statement (non-ASCII white space
// is left to parseKill's reading).
func mayBeKill(sql []byte) bool {
	i := 0
	for i < len(sql) && (isSpace(sql[i]) || sql[i] == '\v' || sql[i] == '\f') {
		i++
	}
	if i < len(sql) && sql[i] >= 0x80 {
		return true
	}
	return len(sql)-i >= 4 && sql[i]|0x20 == 'k' && sql[i+1]|0x20 == 'i' && sql[i+2]|0x20 == 'l' && sql[i+3]|0x20 == 'l'
}

// otherWord stands for a word the scan compares with nothing (see
// upperWord); it equals no word of a query.
const otherWord = "\x00word"

// plainWords are the words the scan compares with wherever they stand:
// the keywords of pins, verbs and session commands, and the names after
// which a name in parentheses is no call.
var plainWords = func() map[string]string {
	m := map[string]string{}
	for w := range nameNotCall {
		m[w] = w
	}
	for _, w := range strings.Fields(`TEMPORARY CREATE TABLE TABLES LOCK FLUSH READ PREPARE HANDLER
		SQL_CALC_FOUND_ROWS NEXT PREVIOUS SET USE CALL SELECT INSERT UPDATE DELETE REPLACE WITH`) {
		m[w] = w
	}
	return m
}()

// knownWords are plainWords and the names of functions the scan compares
// a call with (built-in, no pipeline, pins).
var knownWords = func() map[string]string {
	m := maps.Clone(plainWords)
	for _, set := range []map[string]bool{builtin, noPipeCall} {
		for w := range set {
			m[w] = w
		}
	}
	for _, w := range []string{"GET_LOCK", "FOUND_ROWS", "ROW_COUNT", "LAST_INSERT_ID"} {
		m[w] = w
	}
	return m
}()

// plainShapes and knownShapes have, for each length up to 64, a bit for
// each letter (and one for _) that starts a word of that length in
// plainWords and knownWords: most words of a query (names, numbers) are
// told apart from them without a lookup.
var plainShapes, knownShapes = shapes(plainWords), shapes(knownWords)

func shapes(words map[string]string) (t [65]uint32) {
	for w := range words {
		if b := shapeBit(w[0]); len(w) < len(t) && b != 0 {
			t[len(w)] |= b
		}
	}
	return t
}

// shapeBit is the knownShapes bit of first letter c, in either case.
func shapeBit(c byte) uint32 {
	switch {
	case c >= 'a' && c <= 'z':
		return 1 << (c - 'a')
	case c >= 'A' && c <= 'Z':
		return 1 << (c - 'A')
	case c == '_':
		return 1 << 26
	}
	return 0
}

// upperWord returns word in upper case as the scan compares it: a word
// of plainWords (of knownWords when it is called), otherWord for any other
// ASCII word, and a word with non-ASCII bytes upper-cased by Unicode's
// rules, as the server may read its letters.
func upperWord(word []byte, call bool) string {
	var buf [64]byte
	for _, c := range word {
		if c >= 0x80 {
			return strings.ToUpper(string(word))
		}
	}
	words, shape := plainWords, &plainShapes
	if call {
		words, shape = knownWords, &knownShapes
	}
	if len(word) >= len(shape) || shape[len(word)]&shapeBit(word[0]) == 0 {
		return otherWord
	}
	for i, c := range word {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	if w, ok := words[string(buf[:len(word)])]; ok {
		return w
	}
	return otherWord
}

// killStmt is a KILL statement the proxy answers itself.
type killStmt struct {
	id        uint32
	queryOnly bool
}

// parseKill recognises KILL [CONNECTION | QUERY] <id> (MariaDB's HARD and
// SOFT modifiers allowed). Other KILL forms go to the database.
func parseKill(sql []byte) (killStmt, bool) {
	if !mayBeKill(sql) {
		return killStmt{}, false
	}
	return parseKillFields(sql)
}

// parseKillFields is parseKill without the first-word check.
func parseKillFields(sql []byte) (killStmt, bool) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(string(sql)), "; \t\r\n"))
	if len(f) < 2 || !strings.EqualFold(f[0], "KILL") {
		return killStmt{}, false
	}
	f = f[1:]
	if strings.EqualFold(f[0], "HARD") || strings.EqualFold(f[0], "SOFT") {
		f = f[1:]
	}
	var k killStmt
	if len(f) == 2 {
		switch strings.ToUpper(f[0]) {
		case "QUERY":
			k.queryOnly = true
		case "CONNECTION":
		default:
			return killStmt{}, false
		}
		f = f[1:]
	}
	if len(f) != 1 {
		return killStmt{}, false
	}
	id, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return killStmt{}, false
	}
	k.id = uint32(id)
	return k, true
}
