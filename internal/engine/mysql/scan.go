package mysql

// One pass over a statement (after ":name" → "?" rewriting) that finds the
// parameter markers and classifies what the statement may do to the
// session. The lexical rules are MySQL's: '…' and "…" strings (backslash
// escapes unless NO_BACKSLASH_ESCAPES), `…` identifiers, /* … */, "-- " and
// # comments.

import "strings"

// scan is what one statement holds.
type scan struct {
	// markers are the byte offsets of the '?' parameter markers.
	markers []int
	// stateful: the statement may leave session state behind that session
	// tracking does not report (see classify).
	stateful bool
	// inserts: the statement is an INSERT or REPLACE, which may generate
	// an AUTO_INCREMENT id (LAST_INSERT_ID).
	inserts bool
}

// cleanVerbs are statements that leave no session state behind by
// themselves (anything else counts as stateful): data access and
// schema changes to persistent objects.
var cleanVerbs = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true, "WITH": true,
	"VALUES": true, "TABLE": true, "SHOW": true, "DESCRIBE": true, "DESC": true, "EXPLAIN": true,
	"CREATE": true, "ALTER": true, "DROP": true, "TRUNCATE": true, "RENAME": true, "GRANT": true,
	"REVOKE": true, "ANALYZE": true, "OPTIMIZE": true, "REPAIR": true, "CHECK": true, "CHECKSUM": true,
	"DO": true,
}

// statefulWords anywhere in a statement (outside literals and comments)
// make it stateful: temporary tables, named locks, LAST_INSERT_ID(expr),
// sequences' session values.
var statefulWords = map[string]bool{
	"TEMPORARY": true, "GET_LOCK": true, "RELEASE_LOCK": true, "RELEASE_ALL_LOCKS": true,
	"LAST_INSERT_ID": true, "NEXTVAL": true, "SETVAL": true, "NEXT": true, "LASTVAL": true,
}

// scanStatement lexes sql. noBackslash is the session's
// NO_BACKSLASH_ESCAPES mode. markers reuses buf.
func scanStatement(sql string, noBackslash bool, buf []int) scan {
	s := scan{markers: buf[:0]}
	var words int // significant words seen
	var verb string
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i, c, !noBackslash && c != '`')
		case c == '#' || (c == '-' && strings.HasPrefix(sql[i:], "--") && (i+2 == len(sql) || isCommentSpace(sql[i+2]))):
			i = skipLine(sql, i)
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if i+2 < len(sql) && (sql[i+2] == '!' || sql[i+2] == 'M') {
				s.stateful = true // executable comment: code the scan does not read
			}
			i = skipBlock(sql, i)
		case c == '?':
			s.markers = append(s.markers, i)
		case c == '@':
			if i+1 < len(sql) && sql[i+1] == '@' {
				i++ // @@system_variable: read-only outside SET
				continue
			}
			s.stateful = true // user variable
		case isWordStart(c):
			j := i + 1
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			var ub [32]byte
			w := upperWord(ub[:0], sql[i:j])
			words++
			switch {
			case words == 1:
				verb = string(w)
				s.inserts = verb == "INSERT" || verb == "REPLACE"
				if !cleanVerbs[verb] {
					s.stateful = true
				}
			case words == 2 && verb == "DROP" && (string(w) == "DATABASE" || string(w) == "SCHEMA"):
				s.stateful = true // may drop the current database
			case statefulWords[string(w)]:
				s.stateful = true
			}
			i = j - 1
		case c == '(' && words == 0:
			verb = "(" // (SELECT …)
			words = 1
		}
	}
	if words == 0 {
		s.stateful = s.stateful || strings.TrimSpace(sql) != ""
	}
	return s
}

// upperWord returns w upper-cased, in buf when w is ASCII and fits (the
// usual case: no allocation), else through strings.ToUpper.
func upperWord(buf []byte, w string) []byte {
	if len(w) > cap(buf) {
		return []byte(strings.ToUpper(w))
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 0x80 {
			return []byte(strings.ToUpper(w))
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}

func skipQuoted(sql string, i int, q byte, backslash bool) int {
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++ // doubled quote
				continue
			}
			return j
		}
	}
	return len(sql)
}

func skipLine(sql string, i int) int {
	if k := strings.IndexByte(sql[i:], '\n'); k >= 0 {
		return i + k
	}
	return len(sql)
}

// skipBlock skips a /* … */ comment.
func skipBlock(sql string, i int) int {
	if k := strings.Index(sql[i+2:], "*/"); k >= 0 {
		return i + 2 + k + 1
	}
	return len(sql)
}

// isCommentSpace: "--" starts a comment when followed by one of these.
func isCommentSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWordStart(c byte) bool {
	return c == '_' || c == '$' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func isWordByte(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') }
