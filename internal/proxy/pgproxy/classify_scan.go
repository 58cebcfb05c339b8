package pgproxy

// The classifier's first pass: one scan over the text finds the marks
// (texts that send classify to a closer look) and whether the text is
// plain (no literal, quoted name or comment) with at most one trailing
// semicolon. Most statements a busy client sends are such a text without
// marks, and classifyPlain answers for them from the first word, without
// the lexer.

// marks are the texts whose presence anywhere in a query (in any case,
// even inside a literal or a comment) sends classify to a closer look.
type marks uint8

const (
	markAdvisory    marks = 1 << iota // pg_advisory_lock
	markTryAdvisory                   // pg_try_advisory_lock
	markSleep                         // pg_sleep
	markSetConfig                     // set_config
	markInto                          // into
	markParen                         // (
)

// markTexts are the marks' texts, lower-case (the "pg_" ones first).
var markTexts = [...]struct {
	m    marks
	text string
}{
	{markAdvisory, "pg_advisory_lock"}, {markTryAdvisory, "pg_try_advisory_lock"}, {markSleep, "pg_sleep"},
	{markSetConfig, "set_config"}, {markInto, "into"},
}

// textShape is what scanText found besides the marks.
type textShape struct {
	quoted bool // a quote, dollar sign or comment start: the lexer must read it
	semis  int  // semicolons, counted up to 2
	// trailing: every semicolon is followed by nothing but white space.
	trailing bool
}

// Character classes of the scan; 0 is a character it passes over.
const (
	chMark  = 1 << iota // ( p s i in either case: may start a mark
	chQuote             // ' " $
	chDash              // - and /: may start a comment
	chSemi              // ;
)

var sqlChars = func() (t [256]uint8) {
	for _, c := range "(pPsSiI" {
		t[c] = chMark
	}
	for _, c := range `'"$` {
		t[c] = chQuote
	}
	t['-'], t['/'], t[';'] = chDash, chDash, chSemi
	return t
}()

// scanText finds all marks and the text's shape in one pass over sql,
// where a search per mark would take one pass each.
func scanText(sql string) (marks, textShape) {
	var m marks
	var t textShape
	last := -1 // the last semicolon
	for i := 0; i < len(sql); i++ {
		k := sqlChars[sql[i]]
		if k == 0 {
			continue
		}
		switch k {
		case chMark:
			m |= markAt(sql[i:])
		case chQuote:
			t.quoted = true
		case chDash:
			if i+1 < len(sql) && (sql[i] == '-' && sql[i+1] == '-' || sql[i] == '/' && sql[i+1] == '*') {
				t.quoted = true
			}
		case chSemi:
			t.semis = min(t.semis+1, 2)
			last = i
		}
	}
	t.trailing = true
	for i := last + 1; last >= 0 && i < len(sql); i++ {
		if !isSpace(sql[i]) {
			t.trailing = false
			break
		}
	}
	return m, t
}

// isSpace reports white space as the lexer skips it.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// markAt returns the mark s starts with, if any; s starts with one of
// the chMark characters.
func markAt(s string) marks {
	switch s[0] {
	case '(':
		return markParen
	case 'p', 'P':
		var m marks
		if hasPrefixFold(s, "pg_") {
			for _, t := range markTexts[:3] {
				if hasPrefixFold(s, t.text) {
					m |= t.m
				}
			}
		}
		return m
	case 's', 'S':
		if hasPrefixFold(s, "set_config") {
			return markSetConfig
		}
	case 'i', 'I':
		if hasPrefixFold(s, "into") {
			return markInto
		}
	}
	return 0
}

// classifyPlain classifies a plain text without marks: one statement
// (white space, one word-led statement, an optional semicolon and white
// space) whose first word is not one classify looks deeper into. ok is
// false for any other text; classifyFull reads it.
func classifyPlain(sql string, m marks, t textShape) (c sqlClass, ok bool) {
	if m != 0 || t.quoted || t.semis > 1 || !t.trailing {
		return c, false
	}
	lx := lexer{s: sql}
	lx.skipSpace()
	if lx.i >= len(sql) || sql[lx.i] == ';' {
		return c, false // no statement, or an empty one
	}
	if !isWordChar(sql[lx.i]) {
		return c, true // no keyword: nothing to track, nothing to pipeline
	}
	w := sql[lx.i:lx.wordEnd()]
	if interestingWord(w) {
		return c, false
	}
	c.pipe = isPipeWord(w)
	return c, true
}

// hasPrefixFold reports whether s starts with the lower-case ASCII
// prefix, ignoring the case of ASCII letters in s.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		c := s[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[j] {
			return false
		}
	}
	return true
}
