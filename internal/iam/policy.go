package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Policy grammar and element semantics follow the IAM documentation:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html

// Policy language versions. A document without Version is read with
// 2008-10-17 semantics: no policy variables.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Kind is what a policy document is attached to; it decides which elements
// are allowed.
type Kind int

const (
	// KindIdentity is a policy attached to a user or role (managed or
	// inline): no Principal, Resource required.
	KindIdentity Kind = iota
	// KindResource is a resource-based policy (a secret's policy):
	// Principal or NotPrincipal required, Resource required.
	KindResource
	// KindTrust is a role trust policy: Principal required, sts actions
	// only, no Resource.
	KindTrust
)

func (k Kind) String() string {
	switch k {
	case KindIdentity:
		return "identity"
	case KindResource:
		return "resource"
	case KindTrust:
		return "trust"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// sizeLimit is the largest document Parse accepts for k. Callers enforce the
// tighter per-attachment quotas with CheckSize (managed 6144, user inline
// 2048, …).
func (k Kind) sizeLimit() int {
	switch k {
	case KindResource:
		return MaxResourcePolicySize
	case KindTrust:
		return maxTrustPolicyQuota
	}
	return MaxRoleInlinePolicySize
}

// Policy is a validated, compiled policy document. It is immutable and safe
// for concurrent use.
type Policy struct {
	doc     []byte
	version string // "" when the document has no Version
	id      string
	kind    Kind
	deny    []*statement // evaluated first: explicit Deny wins
	allow   []*statement
}

// Parse validates and compiles an identity policy document (managed or
// inline). Errors are *ParseError values naming the element, or wrap
// ErrPolicyTooLarge.
func Parse(doc []byte) (*Policy, error) { return ParseKind(doc, KindIdentity) }

// ParseResourcePolicy validates and compiles a resource-based policy.
func ParseResourcePolicy(doc []byte) (*Policy, error) { return ParseKind(doc, KindResource) }

// ParseTrustPolicy validates and compiles a role trust policy: who may call
// sts:AssumeRole on the role.
func ParseTrustPolicy(doc []byte) (*Policy, error) { return ParseKind(doc, KindTrust) }

// ParseKind validates and compiles doc as a policy of kind k.
func ParseKind(doc []byte, k Kind) (*Policy, error) {
	if err := CheckSize(doc, k.sizeLimit()); err != nil {
		return nil, err
	}
	if !utf8.Valid(doc) {
		return nil, parseErr("", "document is not valid UTF-8")
	}
	members, err := decodeObject(doc, "")
	if err != nil {
		return nil, err
	}
	p := &Policy{doc: bytes.Clone(doc), kind: k}
	var stmts json.RawMessage
	for _, m := range members {
		switch m.name {
		case "Version":
			if err := json.Unmarshal(m.val, &p.version); err != nil || (p.version != Version2012 && p.version != Version2008) {
				return nil, parseErr("Version", "must be %q or %q", Version2012, Version2008)
			}
		case "Id":
			if err := json.Unmarshal(m.val, &p.id); err != nil {
				return nil, parseErr("Id", "must be a string")
			}
		case "Statement":
			stmts = m.val
		default:
			return nil, parseErr("", "unknown element %q", m.name)
		}
	}
	if stmts == nil {
		return nil, parseErr("Statement", "missing")
	}
	if err := p.parseStatements(stmts); err != nil {
		return nil, err
	}
	return p, nil
}

// parseStatements compiles a statement object or array of statements.
func (p *Policy) parseStatements(raw json.RawMessage) error {
	var list []json.RawMessage
	single := !isArray(raw)
	if single {
		list = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return parseErr("Statement", "must be an object or an array of objects")
	}
	if len(list) == 0 {
		return parseErr("Statement", "must not be empty")
	}
	sids := make(map[string]bool)
	for i, sraw := range list {
		path := fmt.Sprintf("Statement[%d]", i)
		if single {
			path = "Statement"
		}
		st, err := compileStatement(sraw, path, p.kind, p.version == Version2012)
		if err != nil {
			return err
		}
		if st.sid != "" {
			if sids[st.sid] {
				return parseErr(path+".Sid", "duplicate Sid %q", st.sid)
			}
			sids[st.sid] = true
		} else {
			st.name = fmt.Sprintf("Statement[%d]", i)
		}
		if st.deny {
			p.deny = append(p.deny, st)
		} else {
			p.allow = append(p.allow, st)
		}
	}
	return nil
}

// Document returns a copy of the original JSON document (for GetPolicy and
// friends, which return the policy exactly as written).
func (p *Policy) Document() []byte { return bytes.Clone(p.doc) }

// Version returns the document's Version, or "" when it had none.
func (p *Policy) Version() string { return p.version }

// ID returns the document's optional Id element.
func (p *Policy) ID() string { return p.id }

// Kind returns what the policy was parsed as.
func (p *Policy) Kind() Kind { return p.kind }
