package engine

// Placeholder parser for the Data API's ":name" parameters.
//
// The shared Scanner (scan.go) finds the places where a ':' can not be a
// placeholder: string literals, quoted identifiers, comments and dollar
// quotes; "::" casts are handled here. Everything else is copied byte for
// byte, so a statement without placeholders comes back unchanged.

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
	sc      Scanner
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
	l := &lexer{src: sql, d: d, sc: NewScanner(sql, d, false)}
	l.out.Grow(len(sql) + 8)
	l.run()
	return Statement{SQL: l.out.String(), Names: l.names, Multi: l.multi}, nil
}

func (l *lexer) run() {
	for {
		t := l.sc.Next()
		switch {
		case t.Kind == TokEOF:
			return
		case t.Kind == TokSpace || t.Kind == TokComment:
		case t.Kind == TokPunct && l.src[t.Start] == ';':
			l.semi = true
		default:
			if l.semi {
				l.multi = true
			}
			if t.Kind == TokPunct && l.src[t.Start] == ':' {
				l.colon(t.Start)
				continue
			}
		}
		l.out.WriteString(l.src[t.Start:t.End])
	}
}

// colon handles the ':' at pos — a "::" cast, a ":name" placeholder or a
// plain colon — and moves the scanner past it.
func (l *lexer) colon(pos int) {
	if pos+1 < len(l.src) && l.src[pos+1] == ':' {
		l.out.WriteString("::")
		l.sc.SetPos(pos + 2)
		return
	}
	i := pos + 1
	for i < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[i:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		i += n
	}
	if i == pos+1 {
		l.out.WriteByte(':')
		l.sc.SetPos(pos + 1)
		return
	}
	l.placeholder(l.src[pos+1 : i])
	l.sc.SetPos(i)
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
