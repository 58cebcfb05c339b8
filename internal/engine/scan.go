package engine

// The SQL scanner shared by the placeholder rewriter (rewrite.go), the
// statement inspector (inspect.go) and script splitting (Split).
//
// It knows only enough SQL to tell the significant tokens apart from
// string literals, quoted identifiers, comments and PostgreSQL dollar
// quotes, per dialect. Unterminated literals and comments run to the end of
// the text; the database reports the syntax error, not the scanner. It
// never allocates.

// TokenKind classifies a Token.
type TokenKind uint8

// The token kinds.
const (
	TokEOF     TokenKind = iota
	TokSpace             // whitespace
	TokComment           // -- … , # … (MySQL), /* … */
	TokWord              // unquoted identifier or keyword (MySQL: also @var and @@var)
	TokNumber            // numeric literal
	TokString            // '…', E'…' (PostgreSQL), "…" (MySQL), $tag$…$tag$ (PostgreSQL)
	TokQuoted            // quoted identifier: "…" (PostgreSQL, SQLite), `…` (MySQL, SQLite), […] (SQLite)
	TokPunct             // any other single byte: ; ( ) , . : = …
)

// Token is one lexical token: Src[Start:End] of the scanned text.
type Token struct {
	Kind       TokenKind
	Start, End int
}

// Scanner splits a SQL text into tokens for one dialect.
type Scanner struct {
	src string
	d   Dialect
	pos int
	// exec makes MySQL executable comments (/*! … */, /*M! … */) scan as
	// code, as the server runs them: their opener and closer are TokSpace.
	exec   bool
	inExec bool
}

// NewScanner returns a Scanner over src. With execComments, MySQL's
// executable comments are scanned as the code the server runs.
func NewScanner(src string, d Dialect, execComments bool) Scanner {
	return Scanner{src: src, d: d, exec: execComments && d == DialectMySQL}
}

// Pos returns the offset of the next token.
func (s *Scanner) Pos() int { return s.pos }

// SetPos moves the scanner to offset p (a token boundary chosen by the caller).
func (s *Scanner) SetPos(p int) { s.pos = min(max(p, 0), len(s.src)) }

// Next returns the next token, TokEOF at the end.
func (s *Scanner) Next() Token {
	start := s.pos
	if start >= len(s.src) {
		return Token{Kind: TokEOF, Start: start, End: start}
	}
	kind := s.scan(s.src[start])
	if s.pos <= start { // every token consumes at least one byte
		s.pos = start + 1
	}
	return Token{Kind: kind, Start: start, End: s.pos}
}

func (s *Scanner) scan(c byte) TokenKind {
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		for s.pos < len(s.src) && isSpace(s.src[s.pos]) {
			s.pos++
		}
		return TokSpace
	case c == '-' && s.lineComment(), c == '#' && s.d == DialectMySQL:
		s.skipPast("\n", false)
		return TokComment
	case c == '/' && s.peek(1) == '*':
		if s.exec && s.execOpener() {
			return TokSpace
		}
		s.blockComment()
		return TokComment
	case c == '*' && s.inExec && s.peek(1) == '/':
		s.inExec = false
		s.pos += 2
		return TokSpace
	}
	return s.scanToken(c)
}

func (s *Scanner) scanToken(c byte) TokenKind {
	switch {
	case c == '\'':
		s.quoted('\'', s.d == DialectMySQL)
		return TokString
	case c == '"' && s.d == DialectMySQL:
		s.quoted('"', true)
		return TokString
	case c == '"':
		s.quoted('"', false)
		return TokQuoted
	case c == '`' && s.d != DialectPostgres:
		s.quoted('`', false)
		return TokQuoted
	case c == '[' && s.d == DialectSQLite:
		s.skipPast("]", true)
		return TokQuoted
	case c == '$' && s.d == DialectPostgres && s.dollar():
		return TokString
	case isDigit(c):
		s.pos++
		s.identRest()
		return TokNumber
	case wordStart(c, s.d):
		return s.word()
	}
	s.pos++
	return TokPunct
}

// word scans an identifier or keyword; PostgreSQL's E'…' is a string.
func (s *Scanner) word() TokenKind {
	start := s.pos
	for s.pos < len(s.src) && s.src[s.pos] == '@' && s.d == DialectMySQL {
		s.pos++
	}
	s.identRest()
	if s.d == DialectPostgres && s.pos == start+1 && s.src[start]|0x20 == 'e' && s.peek(0) == '\'' {
		s.quoted('\'', true)
		return TokString
	}
	return TokWord
}

func (s *Scanner) identRest() {
	for s.pos < len(s.src) && identByte(s.src[s.pos]) {
		s.pos++
	}
}

func wordStart(c byte, d Dialect) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80 || (c == '@' && d == DialectMySQL)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (s *Scanner) peek(n int) byte {
	if s.pos+n < len(s.src) {
		return s.src[s.pos+n]
	}
	return 0
}

// skipPast moves past the next occurrence of end after the current byte
// (leaving the terminator when !incl), or to the end of the text.
func (s *Scanner) skipPast(end string, incl bool) {
	i := indexFrom(s.src, end, s.pos+1)
	if i < 0 {
		s.pos = len(s.src)
		return
	}
	s.pos = i
	if incl {
		s.pos += len(end)
	}
}

func indexFrom(src, sub string, from int) int {
	if from > len(src) {
		return -1
	}
	for i := from; i+len(sub) <= len(src); i++ {
		if src[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// lineComment reports whether "--" at pos starts a comment. MySQL needs
// the second dash to be followed by whitespace, a control character or the end.
func (s *Scanner) lineComment() bool {
	if s.peek(1) != '-' {
		return false
	}
	if s.d != DialectMySQL || s.pos+2 >= len(s.src) {
		return true
	}
	c := s.src[s.pos+2]
	return c <= ' ' || c == 0x7f
}

// blockComment skips a /* */ comment; PostgreSQL comments nest.
func (s *Scanner) blockComment() {
	depth := 0
	for s.pos < len(s.src) {
		switch {
		case s.src[s.pos] == '/' && s.peek(1) == '*':
			depth++
			s.pos += 2
		case s.src[s.pos] == '*' && s.peek(1) == '/':
			depth--
			s.pos += 2
			if depth == 0 || s.d != DialectPostgres {
				return
			}
		default:
			s.pos++
		}
	}
}

// execOpener consumes a MySQL executable-comment opener ("/*!", "/*!50003",
// "/*M!100100") and reports whether there was one.
func (s *Scanner) execOpener() bool {
	i := s.pos + 2
	if i < len(s.src) && s.src[i] == 'M' {
		i++
	}
	if i >= len(s.src) || s.src[i] != '!' {
		return false
	}
	i++
	for i < len(s.src) && isDigit(s.src[i]) {
		i++
	}
	s.pos, s.inExec = i, true
	return true
}

// quoted skips a literal or identifier opened by q; a doubled q is an
// escaped quote, and with backslash a '\' escapes the next byte.
func (s *Scanner) quoted(q byte, backslash bool) {
	i := s.pos + 1
	for i < len(s.src) {
		switch s.src[i] {
		case '\\':
			if backslash {
				i += 2
				continue
			}
		case q:
			if i+1 < len(s.src) && s.src[i+1] == q {
				i += 2
				continue
			}
			s.pos = i + 1
			return
		}
		i++
	}
	s.pos = len(s.src)
}

// dollar skips a PostgreSQL $tag$…$tag$ string and reports whether there
// was one ('$' alone, or "$1", is punctuation).
func (s *Scanner) dollar() bool {
	i := s.pos + 1
	if i < len(s.src) && !isDigit(s.src[i]) {
		for i < len(s.src) && identByte(s.src[i]) && s.src[i] != '$' {
			i++
		}
	}
	if i >= len(s.src) || s.src[i] != '$' {
		return false
	}
	tag := s.src[s.pos : i+1]
	end := indexFrom(s.src, tag, i+1)
	if end < 0 {
		s.pos = len(s.src)
		return true
	}
	s.pos = end + len(tag)
	return true
}

// Split splits a script into its statements at the ';'s outside literals,
// quoted identifiers, comments and dollar quotes. Statements are trimmed of
// surrounding whitespace and their ';'; empty ones (only whitespace and
// comments) are dropped.
func Split(script string, d Dialect) []string {
	var out []string
	sc := NewScanner(script, d, false)
	start, blank := 0, true
	for {
		t := sc.Next()
		if t.Kind == TokEOF || (t.Kind == TokPunct && script[t.Start] == ';') {
			if !blank {
				out = append(out, trimSpace(script[start:t.Start]))
			}
			if t.Kind == TokEOF {
				return out
			}
			start, blank = t.End, true
			continue
		}
		if t.Kind != TokSpace && t.Kind != TokComment {
			blank = false
		}
	}
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}
