package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// Size limits of IAM policy documents, counted the way IAM counts them:
// characters, not including white space.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
const (
	MaxManagedPolicySize     = 6144  // customer managed policy
	MaxUserInlinePolicySize  = 2048  // all inline policies of one user
	MaxGroupInlinePolicySize = 5120  // all inline policies of one group
	MaxRoleInlinePolicySize  = 10240 // all inline policies of one role
	MaxTrustPolicySize       = 2048  // role trust policy (default quota)
	maxTrustPolicyQuota      = 4096  // the trust-policy quota can be raised to this
	MaxResourcePolicySize    = 20480 // Secrets Manager resource policy

	// maxDocumentBytes bounds the raw input before anything else is done.
	maxDocumentBytes = 256 << 10
)

// ErrPolicyTooLarge is wrapped by parse errors for documents over a size
// limit; AWS reports these as LimitExceeded, not MalformedPolicyDocument.
var ErrPolicyTooLarge = errors.New("policy document too large")

// ParseError describes a malformed policy document. Path names the element
// ("Statement[1].Condition").
type ParseError struct {
	Path string
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return "policy: " + e.Msg
	}
	return e.Path + ": " + e.Msg
}

func parseErr(path, format string, args ...any) error {
	return &ParseError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// PolicySize returns the size of doc as IAM counts it: characters that are
// not white space.
func PolicySize(doc []byte) int {
	n := 0
	for len(doc) > 0 {
		r, size := utf8.DecodeRune(doc)
		doc = doc[size:]
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// CheckSize returns an error wrapping ErrPolicyTooLarge when doc is larger
// than limit characters (see PolicySize).
func CheckSize(doc []byte, limit int) error {
	if len(doc) > maxDocumentBytes {
		return fmt.Errorf("%w: %d bytes", ErrPolicyTooLarge, len(doc))
	}
	if n := PolicySize(doc); n > limit {
		return fmt.Errorf("%w: %d characters (limit %d, white space not counted)", ErrPolicyTooLarge, n, limit)
	}
	return nil
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name string
	val  json.RawMessage
}

// decodeObject decodes a JSON object into its members, rejecting duplicate
// names: encoding/json would silently keep the last one, and a policy with
// {"Effect":"Deny","Effect":"Allow"} must not be read two ways.
func decodeObject(raw []byte, path string) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, parseErr(path, "invalid JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, parseErr(path, "must be a JSON object")
	}
	var ms []member
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, parseErr(path, "invalid JSON: %v", err)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, parseErr(path, "invalid JSON: %v", err)
		}
		if seen[name] {
			return nil, parseErr(path, "duplicate element %q", name)
		}
		seen[name] = true
		ms = append(ms, member{name: name, val: v})
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, parseErr(path, "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, parseErr(path, "invalid JSON: trailing data after object")
	}
	return ms, nil
}

// isArray reports whether raw is a JSON array.
func isArray(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '['
}

// decodeStrings decodes a string or a non-empty array of strings.
func decodeStrings(raw json.RawMessage, path string) ([]string, error) {
	if !isArray(raw) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, parseErr(path, "must be a string or an array of strings")
		}
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, parseErr(path, "must be a string or an array of strings")
	}
	if len(list) == 0 {
		return nil, parseErr(path, "must not be empty")
	}
	return list, nil
}

// decodeScalars decodes a condition value: a string, number or boolean, or
// a non-empty array of them. Numbers keep their literal text; booleans
// become "true"/"false", as IAM accepts both `true` and `"true"`.
func decodeScalars(raw json.RawMessage, path string) ([]string, error) {
	var items []json.RawMessage
	if isArray(raw) {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, parseErr(path, "invalid JSON: %v", err)
		}
		if len(items) == 0 {
			return nil, parseErr(path, "must not be empty")
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, parseErr(path, "invalid JSON: %v", err)
		}
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case json.Number:
			out = append(out, v.String())
		case bool:
			out = append(out, fmt.Sprint(v))
		default:
			return nil, parseErr(path, "values must be strings, numbers or booleans")
		}
	}
	return out, nil
}
