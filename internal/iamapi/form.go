package iamapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sqlgate/sqlgate/internal/awsquery"
)

// maxListMembers bounds a list parameter (ActionNames.member.N, …).
const maxListMembers = 1000

// Patterns and limits of the botocore shapes the operations use.
var (
	reName        = regexp.MustCompile(`^[\w+=,.@-]+$`)
	rePath        = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
	rePathPrefix  = regexp.MustCompile(`^/[\x21-\x7f]*$`)
	rePolicyPath  = regexp.MustCompile(`^((/[A-Za-z0-9.,+@=_-]+)*)/$`)
	reAccessKeyID = regexp.MustCompile(`^\w+$`)
	reVersionID   = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)
	reSession     = regexp.MustCompile(`^[\w+=,.@-]*$`)
	reExternalID  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

// form holds the parameters of one Query request and collects validation
// failures in AWS's wording, reported together by err.
type form struct {
	v    url.Values
	errs []string
}

// parseForm decodes an application/x-www-form-urlencoded body. Repeated
// keys are refused: the Query protocol never sends them, and accepting one
// of two values invites a parser differential.
func parseForm(body string) (*form, error) {
	v, err := awsquery.ParseForm(body)
	var re *awsquery.RepeatedError
	switch {
	case errors.As(err, &re):
		return nil, NewError("MalformedQueryString", 400, "Parameter "+strconv.Quote(re.Key)+" appears more than once.")
	case err != nil:
		return nil, NewError("MalformedQueryString", 400, "The request body is not a valid form-urlencoded query string.")
	}
	return &form{v: v}, nil
}

// member is the lowerCamel member name AWS uses in validation messages.
func member(name string) string {
	name = name[strings.LastIndexByte(name, '.')+1:]
	if name == "" {
		return name
	}
	return strings.ToLower(name[:1]) + name[1:]
}

func (f *form) fail(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// short bounds a value echoed in a message.
func short(s string) string {
	if len(s) > 128 {
		return s[:128] + "…"
	}
	return s
}

// has reports whether name was sent.
func (f *form) has(name string) bool { _, ok := f.v[name]; return ok }

// str returns name's value ("" if absent).
func (f *form) str(name string) string { return f.v.Get(name) }

// required returns name's value and records a failure when it is absent.
func (f *form) required(name string) string {
	if !f.has(name) {
		f.fail("Value null at '%s' failed to satisfy constraint: Member must not be null", member(name))
	}
	return f.str(name)
}

// check validates val (if present) against length bounds and re.
func (f *form) check(name, val string, minLen, maxLen int, re *regexp.Regexp) {
	if !f.has(name) {
		return
	}
	n := utf8.RuneCountInString(val)
	switch {
	case n < minLen:
		f.fail("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", val, member(name), minLen)
	case n > maxLen:
		f.fail("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", member(name), maxLen)
	case re != nil && !re.MatchString(val):
		f.fail("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
			val, member(name), strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$"))
	}
}

// doc validates a policy document parameter: 1..131072 characters of tab,
// newline, CR and U+0020..U+00FF (policyDocumentType). It is not echoed.
func (f *form) doc(name string, required bool) string {
	if required {
		f.required(name)
	}
	val := f.str(name)
	if !f.has(name) {
		return ""
	}
	n := utf8.RuneCountInString(val)
	ok := n >= 1 && n <= 131072 && utf8.ValidString(val)
	for _, r := range val {
		if !ok {
			break
		}
		ok = r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xff)
	}
	if !ok {
		f.fail("Value at '%s' failed to satisfy constraint: Member must have length between 1 and 131072 and contain only tab, line feed, carriage return and characters U+0020 through U+00FF", member(name))
	}
	return val
}

// integer returns name's value, def when absent, checking [lo, hi].
func (f *form) integer(name string, def, lo, hi int) int {
	if !f.has(name) {
		return def
	}
	s := f.str(name)
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		f.fail("Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", short(s), member(name))
	case n < lo:
		f.fail("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, member(name), lo)
	case n > hi:
		f.fail("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, member(name), hi)
	default:
		return n
	}
	return def
}

// boolean returns name's value (false when absent).
func (f *form) boolean(name string) bool {
	if !f.has(name) {
		return false
	}
	b, err := strconv.ParseBool(f.str(name))
	if err != nil {
		f.fail("Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", short(f.str(name)), member(name))
	}
	return b
}

// enum checks that name's value (if present) is one of values.
func (f *form) enum(name string, values ...string) string {
	v := f.str(name)
	if f.has(name) && !slices.Contains(values, v) {
		f.fail("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", short(v), member(name), strings.Join(values, ", "))
	}
	return v
}

// indexes returns the sorted member indexes N of keys "name.member.N…".
func (f *form) indexes(name string) []int {
	out, err := awsquery.Indexes(f.v, name+".member", maxListMembers)
	switch {
	case errors.Is(err, awsquery.ErrTooMany):
		f.fail("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", member(name), maxListMembers)
	case err != nil:
		f.fail("Value at '%s' failed to satisfy constraint: Member must be a list with numeric indexes starting at 1", member(name))
	}
	return out
}

// list returns the values of a list of strings, name.member.1, .2, …
func (f *form) list(name string) []string {
	var out []string
	for _, n := range f.indexes(name) {
		out = append(out, f.str(name+".member."+strconv.Itoa(n)))
	}
	return out
}

// structs returns the members of a list of structures as forms of their
// own fields (Tags.member.1.Key → Key). Their failures are collected here.
func (f *form) structs(name string) []*form {
	var out []*form
	for _, n := range f.indexes(name) {
		out = append(out, &form{v: awsquery.Member(f.v, name+".member", n)})
	}
	return out
}

// err returns the collected validation failures as one ValidationError.
func (f *form) err() error {
	switch len(f.errs) {
	case 0:
		return nil
	case 1:
		return errValidation("1 validation error detected: " + f.errs[0])
	}
	return errValidation(fmt.Sprintf("%d validation errors detected: %s", len(f.errs), strings.Join(f.errs, "; ")))
}

// pagination reads MaxItems (1..1000, default 100) and Marker.
func (f *form) pagination() (maxItems int, marker string) {
	maxItems = f.integer("MaxItems", 100, 1, 1000)
	marker = f.str("Marker")
	f.check("Marker", marker, 1, 320, nil)
	return maxItems, marker
}

// paginate returns the page of items (sorted by key) after marker. The
// marker is the opaque encoding of the last key returned, so a page stays
// correct when items are added or deleted between calls.
func paginate[T any](items []T, key func(T) string, marker string, maxItems int) ([]T, page, error) {
	start := 0
	if marker != "" {
		last, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil {
			return nil, page{}, errValidation("Invalid Marker.")
		}
		start, _ = slices.BinarySearchFunc(items, string(last), func(it T, k string) int { return strings.Compare(key(it), k) })
		if start < len(items) && key(items[start]) == string(last) {
			start++
		}
	}
	end := min(start+maxItems, len(items))
	out := items[start:end]
	if end == len(items) {
		return out, page{}, nil
	}
	return out, page{IsTruncated: true, Marker: base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))}, nil
}
