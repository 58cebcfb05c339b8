package rdsapi

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sqlgate/sqlgate/internal/awsquery"
)

// maxListMembers bounds a list parameter (Tags.Tag.N, Auth.member.N, …).
const maxListMembers = 100

// maxValueLen bounds any single parameter value.
const maxValueLen = 64 << 10

// form holds the parameters of one Query request. The first failure
// wins: RDS reports one parameter at a time.
type form struct {
	v   url.Values
	err *Error
}

// parseForm decodes a form-urlencoded body. Repeated keys are refused: the
// Query protocol never sends them, and taking one of two values invites a
// parser differential.
func parseForm(body string) (*form, error) {
	v, err := awsquery.ParseForm(body)
	var re *awsquery.RepeatedError
	switch {
	case errors.As(err, &re):
		return nil, errMalformed("Parameter " + strconv.Quote(short(re.Key)) + " appears more than once.")
	case err != nil:
		return nil, errMalformed("The request body is not a valid form-urlencoded query string.")
	}
	for k, vals := range v {
		if len(vals[0]) > maxValueLen || !utf8.ValidString(vals[0]) {
			return nil, errInvalid("The value of parameter " + strconv.Quote(short(k)) + " is not valid.")
		}
	}
	return &form{v: v}, nil
}

// short bounds a value echoed in a message.
func short(s string) string {
	if len(s) > 128 {
		s = s[:128] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func (f *form) fail(e *Error) {
	if f.err == nil {
		f.err = e
	}
}

// has reports whether name was sent.
func (f *form) has(name string) bool { _, ok := f.v[name]; return ok }

// str returns name's value ("" if absent).
func (f *form) str(name string) string { return f.v.Get(name) }

// required returns name's value; absent or empty is MissingParameter.
func (f *form) required(name string) string {
	if f.str(name) == "" {
		f.fail(errMissing(name))
	}
	return f.str(name)
}

// match checks that name's value (if sent) matches re.
func (f *form) match(name string, re *regexp.Regexp, what string) string {
	v := f.str(name)
	if f.has(name) && !re.MatchString(v) {
		f.fail(errInvalid("The parameter " + name + " is not a valid " + what + ": " + short(v)))
	}
	return v
}

// optInt returns name's value as an int within [lo, hi], nil when absent.
func (f *form) optInt(name string, lo, hi int) *int {
	if !f.has(name) {
		return nil
	}
	n, err := strconv.Atoi(f.str(name))
	if err != nil || n < lo || n > hi {
		f.fail(errInvalid("Invalid value " + short(f.str(name)) + " for " + name + ": must be an integer from " +
			strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + "."))
		return nil
	}
	return &n
}

// optBool returns name's value, nil when absent.
func (f *form) optBool(name string) *bool {
	if !f.has(name) {
		return nil
	}
	b, err := strconv.ParseBool(f.str(name))
	if err != nil {
		f.fail(errInvalid("Invalid value " + short(f.str(name)) + " for " + name + ": must be true or false."))
		return nil
	}
	return &b
}

// enum checks that name's value (if sent) is one of values.
func (f *form) enum(name string, values ...string) string {
	v := f.str(name)
	if f.has(name) && !slices.Contains(values, v) {
		f.fail(errInvalid("Invalid value " + short(v) + " for " + name + ": must be one of " + strings.Join(values, ", ") + "."))
	}
	return v
}

// indexes returns the sorted member indexes N of keys "prefix.N…"
// (prefix is "Name.member" or "Tags.Tag").
func (f *form) indexes(prefix string) []int {
	out, err := awsquery.Indexes(f.v, prefix, maxListMembers)
	switch {
	case errors.Is(err, awsquery.ErrTooMany):
		f.fail(errInvalid("The list " + prefix + " has more than " + strconv.Itoa(maxListMembers) + " members."))
	case err != nil:
		f.fail(errInvalid("The list " + prefix + " must have numeric indexes starting at 1."))
	}
	return out
}

// list returns a list of strings sent as prefix.1, prefix.2, … (nil when
// absent, empty when sent empty: "Name=" with no members).
func (f *form) list(prefix string) []string {
	out := []string{}
	for _, n := range f.indexes(prefix) {
		out = append(out, f.str(prefix+"."+strconv.Itoa(n)))
	}
	if len(out) == 0 && !f.has(strings.TrimSuffix(prefix, ".member")) {
		return nil
	}
	return out
}

// structs returns the members of a list of structures as forms of their
// own fields (Tags.Tag.1.Key → Key). Failures are reported on f.
func (f *form) structs(prefix string) []*form {
	var out []*form
	for _, n := range f.indexes(prefix) {
		out = append(out, &form{v: awsquery.Member(f.v, prefix, n)})
	}
	return out
}

// sub reports a member's failure on f.
func (f *form) sub(s *form) {
	if s.err != nil {
		f.fail(s.err)
	}
}

// tags decodes Tags.Tag.N.Key/Value.
func (f *form) tags() []Tag {
	var out []Tag
	for _, s := range f.structs("Tags.Tag") {
		k, v := s.str("Key"), s.str("Value")
		switch {
		case k == "" || utf8.RuneCountInString(k) > 128:
			f.fail(errInvalid("A tag key must be 1 to 128 characters."))
		case utf8.RuneCountInString(v) > 256:
			f.fail(errInvalid("A tag value must be at most 256 characters."))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			f.fail(errInvalid("Tag keys must not start with aws:."))
		}
		out = append(out, Tag{Key: k, Value: v})
	}
	return out
}

// reProxyName is an RDS proxy or proxy endpoint name: a letter, then
// letters, digits and single hyphens, not ending in a hyphen.
var reProxyName = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,62}$`)
