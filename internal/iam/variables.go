package iam

import (
	"fmt"
	"strings"
)

// Policy variables: ${aws:username}, ${aws:PrincipalTag/team, 'default'}, and
// the escapes ${*} ${?} ${$}. Only Version 2012-10-17 documents have
// variables; in 2008-10-17 documents "${…}" is literal text.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
//
// Decisions:
//   - A substituted value is literal: a '*' inside a user name or tag value
//     never acts as a wildcard.
//   - A variable whose key has no single value in the request (missing or
//     multivalued) and no default cannot be resolved. AWS says this "might
//     cause the entire statement to be invalid"; we make the statement
//     indeterminate, which fails closed (see statement.applies).

// tmplPart is literal text, pattern text, or a variable reference.
type tmplPart struct {
	text   string // literal or pattern text when key == ""
	wild   bool   // text came from the policy: '*' and '?' are wildcards
	key    string // lower-cased context key of a variable
	def    string // default value
	hasDef bool
}

// template is a policy string that may contain variables.
type template struct {
	parts   []tmplPart
	dynamic bool // has at least one variable
}

// parseTemplate splits s into parts. With vars false (2008 semantics) the
// whole string is one pattern part.
func parseTemplate(s string, vars bool) (template, error) {
	if !vars || !strings.Contains(s, "${") {
		return template{parts: []tmplPart{{text: s, wild: true}}}, nil
	}
	var t template
	for s != "" {
		i := strings.Index(s, "${")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{text: s, wild: true})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{text: s[:i], wild: true})
		}
		s = s[i+2:]
		body, rest, err := splitVariable(s)
		if err != nil {
			return template{}, err
		}
		s = rest
		p, err := parseVariable(body)
		if err != nil {
			return template{}, err
		}
		if p.key != "" {
			t.dynamic = true
		}
		t.parts = append(t.parts, p)
	}
	return t, nil
}

// splitVariable returns the text up to the closing brace, honouring a quoted
// default value that may itself contain '}'.
func splitVariable(s string) (body, rest string, err error) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQuote = !inQuote // '' inside a quote toggles twice: stays quoted
		case '}':
			if !inQuote {
				return s[:i], s[i+1:], nil
			}
		}
	}
	return "", "", fmt.Errorf("unterminated policy variable \"${%s\"", s)
}

// parseVariable parses the inside of ${…}.
func parseVariable(body string) (tmplPart, error) {
	switch body {
	case "*", "?", "$":
		return tmplPart{text: body}, nil
	}
	name, def, hasDef := strings.Cut(body, ",")
	name = strings.TrimSpace(name)
	if !validKeyName(name) {
		return tmplPart{}, fmt.Errorf("invalid policy variable \"${%s}\"", body)
	}
	p := tmplPart{key: strings.ToLower(name)}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return tmplPart{}, fmt.Errorf("policy variable \"${%s}\": default value must be in single quotes", body)
		}
		p.def = strings.ReplaceAll(def[1:len(def)-1], "''", "'")
		p.hasDef = true
	}
	return p, nil
}

// validKeyName reports whether k looks like a condition key: "service:name".
func validKeyName(k string) bool {
	svc, name, ok := strings.Cut(k, ":")
	if !ok || svc == "" || name == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c == '$' || c == '{' || c == '}' || c == '*' || c == '?' || c >= 0x7f {
			return false
		}
	}
	return true
}

// resolve substitutes variables using ec. ok is false when a variable has no
// value and no default.
func (t *template) resolve(ec *evalCtx) (pieces []piece, ok bool) {
	pieces = make([]piece, 0, len(t.parts))
	for _, p := range t.parts {
		if p.key == "" {
			pieces = append(pieces, piece{text: p.text, wild: p.wild})
			continue
		}
		v, found := ec.single(p.key)
		if !found {
			if !p.hasDef {
				return nil, false
			}
			v = p.def
		}
		pieces = append(pieces, piece{text: v})
	}
	return pieces, true
}

// resolveString resolves t into a plain string (for operators without
// wildcards, where '*' and '?' are literal anyway).
func (t *template) resolveString(ec *evalCtx) (string, bool) {
	pieces, ok := t.resolve(ec)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(p.text)
	}
	return b.String(), true
}

// static returns the pieces of a template without variables.
func (t *template) static() []piece {
	pieces := make([]piece, len(t.parts))
	for i, p := range t.parts {
		pieces[i] = piece{text: p.text, wild: p.wild}
	}
	return pieces
}
