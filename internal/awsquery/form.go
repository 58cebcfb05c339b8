package awsquery

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The request side of the Query protocol: a form-urlencoded body whose
// lists are numbered keys (Name.member.1, Tags.Tag.2.Key, …). These
// functions read its structure; each API words the failures its own way
// (IAM collects ValidationError clauses, RDS reports the first one).

// ErrMalformed is ParseForm's error for a body that is not form-urlencoded.
var ErrMalformed = errors.New("awsquery: not a form-urlencoded query string")

// RepeatedError is ParseForm's error for a key sent more than once: the
// Query protocol never sends one twice, and taking one of two values
// invites a parser differential.
type RepeatedError struct{ Key string }

func (e *RepeatedError) Error() string {
	return "awsquery: parameter " + strconv.Quote(e.Key) + " appears more than once"
}

// ParseForm decodes a Query request body, refusing repeated keys.
func ParseForm(body string) (url.Values, error) {
	v, err := url.ParseQuery(body)
	if err != nil {
		return nil, ErrMalformed
	}
	for k, vals := range v {
		if len(vals) > 1 {
			return nil, &RepeatedError{Key: k}
		}
	}
	return v, nil
}

// List index failures of Indexes.
var (
	// ErrIndex: a member index that is not a decimal number from 1
	// without leading zeros.
	ErrIndex = errors.New("awsquery: list indexes must be numbers starting at 1")
	// ErrTooMany: more members than the list allows.
	ErrTooMany = errors.New("awsquery: too many list members")
)

// Indexes returns the sorted member indexes N of the keys "prefix.N" and
// "prefix.N.…" (prefix is "Name.member" or "Tags.Tag"), at most max of
// them.
func Indexes(v url.Values, prefix string, max int) ([]int, error) {
	prefix += "."
	seen := map[int]bool{}
	for k := range v {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		idx, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 || strconv.Itoa(n) != idx {
			return nil, ErrIndex
		}
		seen[n] = true
	}
	if len(seen) > max {
		return nil, ErrTooMany
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// Member returns the fields of one member of a list of structures as
// values of their own: Member(v, "Tags.member", 1) maps Tags.member.1.Key
// to Key.
func Member(v url.Values, prefix string, n int) url.Values {
	p := prefix + "." + strconv.Itoa(n) + "."
	out := url.Values{}
	for k, vals := range v {
		if rest, ok := strings.CutPrefix(k, p); ok {
			out[rest] = vals
		}
	}
	return out
}
