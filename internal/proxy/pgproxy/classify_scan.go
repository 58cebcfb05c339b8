package pgproxy

// The classifier's first pass: one scan over the text finds the marks
// (texts that send classify to a closer look) and whether the text is
// plain (no literal, quoted name or comment) with at most one trailing
// semicolon. Most statements a busy client sends are such a text, and
// classifyPlain answers for them from the first word and the marks,
// without the lexer.

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

// Character classes of the scan; 0 is a character it passes over. A mark
// is found at a character that is rare in SQL and sits at a fixed place
// in its text: the "(", the "_" of "pg_…" and "set_config", the "o" of
// "into". Triggering on the marks' first letters (p, s, i) would stop the
// scan at most words.
const (
	chParen = 1 + iota // (
	chQuote            // ' " $
	chDash             // - and /: may start a comment
	chSemi             // ;
	chUnder            // _
	chO                // o O
)

var sqlChars = func() (t [256]uint8) {
	for _, c := range `'"$` {
		t[c] = chQuote
	}
	t['('], t['-'], t['/'], t[';'], t['_'], t['o'], t['O'] = chParen, chDash, chDash, chSemi, chUnder, chO, chO
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
		case chParen:
			m |= markParen
		case chQuote:
			t.quoted = true
		case chDash:
			if i+1 < len(sql) && (sql[i] == '-' && sql[i+1] == '-' || sql[i] == '/' && sql[i+1] == '*') {
				t.quoted = true
			}
		case chSemi:
			t.semis = min(t.semis+1, 2)
			last = i
		case chUnder:
			m |= markUnder(sql, i)
		case chO:
			// c|0x20 folds exactly the letter's two cases onto one byte.
			if i >= 3 && sql[i-1]|0x20 == 't' && sql[i-2]|0x20 == 'n' && sql[i-3]|0x20 == 'i' {
				m |= markInto
			}
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

// markUnder returns the marks whose text has the underscore at sql[i]:
// the "pg_" ones at their third character, set_config at its fourth.
func markUnder(sql string, i int) marks {
	var m marks
	if i >= 2 && sql[i-1]|0x20 == 'g' && sql[i-2]|0x20 == 'p' {
		for _, t := range markTexts[:3] {
			if hasPrefixFold(sql[i-2:], t.text) {
				m |= t.m
			}
		}
	} else if i >= 3 && hasPrefixFold(sql[i-3:], "set_config") {
		m = markSetConfig
	}
	return m
}

// classifyPlain classifies a plain text: one statement (white space, one
// word-led statement, an optional semicolon and white space) whose first
// word is not one classify looks deeper into. Such a statement needs no
// lexing: without marks it is classified from its first word, with marks
// by what they point to. ok is false for any other text; classifyFull
// reads it.
func classifyPlain(sql string, m marks, t textShape) (c sqlClass, ok bool) {
	if t.quoted || t.semis > 1 || !t.trailing {
		return c, false
	}
	lx := lexer{s: sql}
	lx.skipSpace()
	if lx.i >= len(sql) || sql[lx.i] == ';' {
		return c, false // no statement, or an empty one
	}
	if !isWordChar(sql[lx.i]) {
		if m != 0 {
			return c, false
		}
		return c, true // no keyword: nothing to track, nothing to pipeline
	}
	interesting, pipe := wordKind(sql[lx.i:lx.wordEnd()])
	if interesting {
		return c, false
	}
	if m == 0 {
		c.pipe = pipe
		return c, true
	}
	classifyMarks(sql, m, &c)
	return c.finish(1, m, pipe), true
}

// lowerInto copies w into buf (len(w) <= len(buf)) with its ASCII
// letters lower-cased and returns that part of buf; a caller converting
// it to a string only to compare or look it up allocates nothing.
func lowerInto(buf []byte, w string) []byte {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(w)]
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

// wordKind reports, in one look at a statement's first word and without
// allocating, whether it is a keyword classify looks deeper into and
// whether it leads a statement that may be pipelined.
func wordKind(w string) (interesting, pipe bool) {
	var buf [10]byte // the longest keyword: "deallocate"
	if len(w) > len(buf) {
		return false, false
	}
	switch string(lowerInto(buf[:], w)) {
	case "select", "insert", "update", "delete", "with", "values", "table":
		return false, true
	case "set", "reset", "listen", "prepare", "deallocate", "discard", "declare", "create", "load", "do", "call":
		return true, false
	}
	return false, false
}
