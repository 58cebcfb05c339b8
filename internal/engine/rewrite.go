package engine

// Placeholder parser for the Data API's ":name" parameters (spec §4.5).
//
// The lexer only knows enough SQL to find the places where a ':' can not be
// a placeholder: string literals, quoted identifiers, comments, PostgreSQL
// "::" casts and dollar quotes. Everything else is copied byte for byte, so
// a statement without placeholders comes back unchanged. Unterminated
// literals and comments run to the end of the text; the database reports
// the syntax error, not the parser.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lexer walks one SQL text and writes the rewritten statement.
type lexer struct {
	src     string
	d       Dialect
	pos     int
	out     strings.Builder
	names   []string
	numbers map[string]int // PostgreSQL: name → $n
	semi    bool           // a ';' was seen outside literals and comments
	multi   bool
}

func rewrite(sql string, d Dialect) (Statement, error) {
	if !strings.ContainsAny(sql, ":;") {
		return Statement{SQL: sql}, nil
	}
	l := &lexer{src: sql, d: d}
	l.out.Grow(len(sql) + 8)
	l.run()
	return Statement{SQL: l.out.String(), Names: l.names, Multi: l.multi}, nil
}

func (l *lexer) run() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.copy(1)
		case c == '-' && l.lineComment():
			l.skipTo("\n", false)
		case c == '#' && l.d == DialectMySQL:
			l.skipTo("\n", false)
		case c == '/' && l.peek(1) == '*':
			l.blockComment()
		case c == ';':
			l.semi = true
			l.copy(1)
		default:
			if l.semi {
				l.multi = true
			}
			l.token(c)
		}
	}
}

// token handles one significant character at l.pos.
func (l *lexer) token(c byte) {
	switch {
	case c == '\'':
		l.quoted('\'', l.backslashString())
	case c == '"':
		// MySQL: a string (backslash escapes); elsewhere an identifier.
		l.quoted('"', l.d == DialectMySQL)
	case c == '`' && l.d != DialectPostgres:
		l.quoted('`', false)
	case c == '[' && l.d == DialectSQLite:
		l.skipTo("]", true)
	case c == '$' && l.d == DialectPostgres:
		l.dollar()
	case c == ':':
		l.colon()
	default:
		l.copy(1)
	}
}

func (l *lexer) peek(n int) byte {
	if l.pos+n < len(l.src) {
		return l.src[l.pos+n]
	}
	return 0
}

func (l *lexer) copy(n int) {
	end := min(l.pos+n, len(l.src))
	l.out.WriteString(l.src[l.pos:end])
	l.pos = end
}

// skipTo copies up to the next occurrence of end (inclusive when incl, else
// the terminator is left for the main loop) or to the end of the text.
func (l *lexer) skipTo(end string, incl bool) {
	i := strings.Index(l.src[l.pos+1:], end)
	if i < 0 {
		l.copy(len(l.src))
		return
	}
	n := 1 + i
	if incl {
		n += len(end)
	}
	l.copy(n)
}

// lineComment reports whether "--" at l.pos starts a comment. MySQL needs
// the second dash to be followed by whitespace, a control character or the end.
func (l *lexer) lineComment() bool {
	if l.peek(1) != '-' {
		return false
	}
	if l.d != DialectMySQL {
		return true
	}
	if l.pos+2 >= len(l.src) {
		return true
	}
	c := l.src[l.pos+2]
	return c <= ' ' || c == 0x7f
}

// blockComment copies a /* */ comment; PostgreSQL comments nest.
func (l *lexer) blockComment() {
	depth := 0
	for l.pos < len(l.src) {
		switch {
		case l.src[l.pos] == '/' && l.peek(1) == '*':
			depth++
			l.copy(2)
		case l.src[l.pos] == '*' && l.peek(1) == '/':
			depth--
			l.copy(2)
			if depth == 0 || l.d != DialectPostgres {
				return
			}
		default:
			l.copy(1)
		}
	}
}

// backslashString reports whether the ' at l.pos opens a string in which
// backslash escapes the next character: always on MySQL, only for E'...' strings on PostgreSQL.
func (l *lexer) backslashString() bool {
	switch l.d {
	case DialectMySQL:
		return true
	case DialectPostgres:
		if l.pos == 0 || (l.src[l.pos-1] != 'E' && l.src[l.pos-1] != 'e') {
			return false
		}
		return l.pos < 2 || !identByte(l.src[l.pos-2])
	}
	return false
}

// quoted copies a literal or identifier opened by q; a doubled q is an
// escaped quote, and with backslash a '\' escapes the next byte.
func (l *lexer) quoted(q byte, backslash bool) {
	i := l.pos + 1
	for i < len(l.src) {
		switch l.src[i] {
		case '\\':
			if backslash {
				i += 2
				continue
			}
		case q:
			if i+1 < len(l.src) && l.src[i+1] == q {
				i += 2
				continue
			}
			l.copy(i + 1 - l.pos)
			return
		}
		i++
	}
	l.copy(len(l.src))
}

// dollar copies a PostgreSQL $tag$…$tag$ string, or a lone '$'.
func (l *lexer) dollar() {
	if l.pos > 0 && identByte(l.src[l.pos-1]) {
		l.copy(1) // part of an identifier such as a$b
		return
	}
	i := l.pos + 1
	if i < len(l.src) && !isDigit(l.src[i]) {
		for i < len(l.src) && identByte(l.src[i]) && l.src[i] != '$' {
			i++
		}
	}
	if i >= len(l.src) || l.src[i] != '$' {
		l.copy(1) // $1 positional marker or stray '$'
		return
	}
	tag := l.src[l.pos : i+1]
	end := strings.Index(l.src[i+1:], tag)
	if end < 0 {
		l.copy(len(l.src))
		return
	}
	l.copy(i + 1 + end + len(tag) - l.pos)
}

// colon handles ':' — a "::" cast, a ":name" placeholder or a plain colon.
func (l *lexer) colon() {
	if l.peek(1) == ':' {
		l.copy(2)
		return
	}
	i := l.pos + 1
	for i < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[i:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		i += n
	}
	if i == l.pos+1 {
		l.copy(1)
		return
	}
	l.placeholder(l.src[l.pos+1 : i])
	l.pos = i
}

func (l *lexer) placeholder(name string) {
	if l.d != DialectPostgres {
		l.names = append(l.names, name)
		l.out.WriteByte('?')
		return
	}
	n, ok := l.numbers[name]
	if !ok {
		if l.numbers == nil {
			l.numbers = make(map[string]int)
		}
		l.names = append(l.names, name)
		n = len(l.names)
		l.numbers[name] = n
	}
	l.out.WriteByte('$')
	l.out.WriteString(strconv.Itoa(n))
}

// identByte reports whether b can continue an unquoted identifier (any
// non-ASCII byte is taken as part of a UTF-8 letter).
func identByte(b byte) bool {
	return b == '_' || b == '$' || isDigit(b) || (b|0x20 >= 'a' && b|0x20 <= 'z') || b >= 0x80
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func order(st Statement, params []Param) ([]Param, error) {
	if len(params) == 0 && len(st.Names) == 0 {
		return nil, nil
	}
	byName := make(map[string]int, len(params))
	for i, p := range params {
		if _, dup := byName[p.Name]; dup {
			return nil, &ParamError{Msg: fmt.Sprintf("Duplicate parameter name: %s", p.Name)}
		}
		byName[p.Name] = i
	}
	out := make([]Param, len(st.Names))
	for i, name := range st.Names {
		j, ok := byName[name]
		if !ok {
			return nil, &ParamError{Msg: fmt.Sprintf("No value specified for parameter: %s", name)}
		}
		out[i] = params[j]
	}
	return out, nil
}
