package pgproxy

// Just enough of PostgreSQL's lexical structure to find statement
// boundaries and leading keywords: comments (nested /* */), quoted
// identifiers, string constants (standard, E'', dollar-quoted).
// https://www.postgresql.org/docs/current/sql-syntax-lexical.html

import "strings"

type tokKind int

const (
	tokEnd tokKind = iota
	tokWord
	tokIdent  // "quoted"
	tokString // 'literal' (value unescaped)
	tokPunct
)

type lexer struct {
	s string
	i int
}

func (l *lexer) done() bool {
	l.skipSpace()
	return l.i >= len(l.s)
}

// statement returns the lower-cased words of the next statement when it
// starts with an interesting keyword (at most 64), else nil; it consumes
// the statement and its semicolon.
func (l *lexer) statement() []string {
	var words []string
	keep := false
	if l.skipSpace(); l.i < len(l.s) && isWordChar(l.s[l.i]) && !(l.s[l.i]|0x20 == 'e' && l.i+1 < len(l.s) && l.s[l.i+1] == '\'') {
		if j := l.wordEnd(); !interestingWord(l.s[l.i:j]) {
			l.i = j
			l.skipStatement()
			return nil
		}
	}
	for n := 0; ; n++ {
		t, k := l.token()
		switch {
		case k == tokEnd:
			return words
		case k == tokPunct && t == ";":
			return words
		}
		if n == 0 {
			if keep = k == tokWord && interestingWord(t); !keep {
				l.skipStatement()
				return nil
			}
		}
		if keep && len(words) < 64 && k != tokPunct {
			words = append(words, t)
		}
	}
}

// skipStatement moves past the next semicolon outside quotes and comments.
// Words are skipped whole (a "$" inside one is part of it, as in
// PostgreSQL identifiers), without lower-casing them.
func (l *lexer) skipStatement() {
	// The common case: no quote, dollar or comment before the next
	// semicolon (or the end), so that semicolon ends the statement.
	rest := l.s[l.i:]
	j := strings.IndexByte(rest, ';')
	if j < 0 {
		j = len(rest)
	}
	if plain(rest[:j]) {
		l.i += min(j+1, len(rest))
		return
	}
	for {
		l.skipSpace()
		if l.i >= len(l.s) {
			return
		}
		switch c := l.s[l.i]; {
		case c == ';':
			l.i++
			return
		case c == '\'' || c == '"' || c == '$' || (c == 'e' || c == 'E') && l.i+1 < len(l.s) && l.s[l.i+1] == '\'':
			l.token()
		case isWordChar(c):
			l.i = l.wordEnd()
		default:
			l.i++
		}
	}
}

// plain reports whether s holds no quote, dollar sign or comment.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '"', '$':
			return false
		case '-', '/':
			if i+1 < len(s) && (s[i+1] == '-' && s[i] == '-' || s[i+1] == '*' && s[i] == '/') {
				return false
			}
		}
	}
	return true
}

// wordEnd returns the end of the word at the cursor.
func (l *lexer) wordEnd() int {
	j := l.i
	for j < len(l.s) && (isWordChar(l.s[j]) || l.s[j] == '$') {
		j++
	}
	return j
}

// interestingWord reports whether w, in any case, is a statement keyword
// classify looks deeper into.
func interestingWord(w string) bool {
	interesting, _ := wordKind(w)
	return interesting
}

func (l *lexer) skipSpace() {
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.i++
		case c == '-' && strings.HasPrefix(l.s[l.i:], "--"):
			l.i = lineCommentEnd(l.s, l.i)
		case c == '/' && strings.HasPrefix(l.s[l.i:], "/*"):
			if l.i = blockCommentEnd(l.s, l.i); l.i < 0 {
				l.i = len(l.s) // unterminated: the rest is comment
			}
		default:
			return
		}
	}
}

// lineCommentEnd returns the end of the "--" comment at s[i]: past its
// newline, or the end of s.
func lineCommentEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// blockCommentEnd returns the end of the "/*" comment at s[i] (they nest),
// past its "*/", or -1 when it does not end.
func blockCommentEnd(s string, i int) int {
	depth := 0
	for i < len(s) {
		if strings.HasPrefix(s[i:], "/*") {
			depth++
			i += 2
		} else if strings.HasPrefix(s[i:], "*/") {
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		} else {
			i++
		}
	}
	return -1
}

// token returns the next token; words are lower-cased.
func (l *lexer) token() (string, tokKind) {
	l.skipSpace()
	if l.i >= len(l.s) {
		return "", tokEnd
	}
	c := l.s[l.i]
	switch {
	case c == '\'':
		return l.quoted('\'', false), tokString
	case c == '"':
		return l.quoted('"', false), tokIdent
	case (c == 'e' || c == 'E') && l.i+1 < len(l.s) && l.s[l.i+1] == '\'':
		l.i++
		return l.quoted('\'', true), tokString
	case c == '$' && l.dollarTag() != "":
		tag := l.dollarTag()
		l.i += len(tag)
		end := strings.Index(l.s[l.i:], tag)
		if end < 0 {
			v := l.s[l.i:]
			l.i = len(l.s)
			return v, tokString
		}
		v := l.s[l.i : l.i+end]
		l.i += end + len(tag)
		return v, tokString
	case isWordChar(c):
		j := l.wordEnd()
		w := strings.ToLower(l.s[l.i:j])
		l.i = j
		return w, tokWord
	}
	l.i++
	return l.s[l.i-1 : l.i], tokPunct // a slice: string(c) would allocate
}

// token is a token as rawToken returns it: a word as written (value
// lower-cases it), a quoted string or name without its quotes.
type token struct {
	text string
	kind tokKind
}

// rawToken is token without copies, for scans that only compare: a word
// is returned as written, a quoted string or name that holds no escape as
// the slice between its quotes; anything else as token returns it.
func (l *lexer) rawToken() token {
	l.skipSpace()
	if l.i >= len(l.s) {
		return token{"", tokEnd}
	}
	switch c := l.s[l.i]; {
	case c == '\'' || c == '"':
		rest := l.s[l.i+1:]
		if j := strings.IndexByte(rest, c); j >= 0 && (j+1 >= len(rest) || rest[j+1] != c) {
			l.i += j + 2
			if c == '"' {
				return token{rest[:j], tokIdent}
			}
			return token{rest[:j], tokString}
		}
	case (c == 'e' || c == 'E') && l.i+1 < len(l.s) && l.s[l.i+1] == '\'':
	case isWordChar(c):
		j := l.wordEnd()
		t := token{l.s[l.i:j], tokWord}
		l.i = j
		return t
	}
	text, kind := l.token() // a quoted token with escapes, or no word
	return token{text, kind}
}

// value is the token as token returns it (a word lower-cased).
func (t token) value() string {
	if t.kind == tokWord {
		return strings.ToLower(t.text)
	}
	return t.text
}

// is reports whether the token's value is w, a lower-case keyword.
func (t token) is(w string) bool {
	if t.kind == tokWord {
		return len(t.text) == len(w) && hasPrefixFold(t.text, w)
	}
	return t.text == w
}

// in reports whether the token's value is in set, without allocating.
func (t token) in(set map[string]bool) bool {
	if t.kind != tokWord {
		return set[t.text]
	}
	var buf [40]byte // longer than any word of the sets
	if len(t.text) > len(buf) {
		return false
	}
	return set[string(lowerInto(buf[:], t.text))]
}

func isWordChar(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80
}

// dollarTag returns "$tag$" at the cursor, or "".
func (l *lexer) dollarTag() string {
	j := l.i + 1
	for j < len(l.s) && (l.s[j] == '_' || l.s[j]|0x20 >= 'a' && l.s[j]|0x20 <= 'z' || j > l.i+1 && l.s[j] >= '0' && l.s[j] <= '9') {
		j++
	}
	if j < len(l.s) && l.s[j] == '$' {
		return l.s[l.i : j+1]
	}
	return ""
}

// quoted reads a q-quoted token starting at the cursor; doubled quotes
// escape, and backslashes too when esc.
func (l *lexer) quoted(q byte, esc bool) string {
	l.i++
	var b strings.Builder
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case esc && c == '\\' && l.i+1 < len(l.s):
			b.WriteByte(l.s[l.i+1])
			l.i += 2
		case c == q && l.i+1 < len(l.s) && l.s[l.i+1] == q:
			b.WriteByte(q)
			l.i += 2
		case c == q:
			l.i++
			return b.String()
		default:
			b.WriteByte(c)
			l.i++
		}
	}
	return b.String()
}
