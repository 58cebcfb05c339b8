package iam

import (
	"encoding/json"
	"strings"
)

// statement is one compiled policy statement.
type statement struct {
	sid       string
	name      string // Sid, or "Statement[i]" when there is none
	deny      bool
	notAction bool
	actions   actionSet
	// resources is nil when the statement has no Resource element (trust
	// policies), which matches every resource.
	resources    *resourceSet
	notResource  bool
	principals   *principalSet // nil: no Principal element (identity policies)
	notPrincipal bool
	conds        []condition
}

// compileStatement validates and compiles one statement object.
func compileStatement(raw json.RawMessage, path string, kind Kind, vars bool) (*statement, error) {
	members, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	st := &statement{}
	var haveEffect, haveAction, haveResource, havePrincipal bool
	for _, m := range members {
		ep := path + "." + m.name
		switch m.name {
		case "Sid":
			if err := json.Unmarshal(m.val, &st.sid); err != nil {
				return nil, parseErr(ep, "must be a string")
			}
			// IAM (identity and trust policies) allows only A-Z, a-z, 0-9.
			if kind != KindResource && !alnum(st.sid) {
				return nil, parseErr(ep, "%q: only letters and digits are allowed", st.sid)
			}
			st.name = st.sid
		case "Effect":
			var e string
			if err := json.Unmarshal(m.val, &e); err != nil || (e != "Allow" && e != "Deny") {
				return nil, parseErr(ep, "must be \"Allow\" or \"Deny\"")
			}
			st.deny, haveEffect = e == "Deny", true
		case "Action", "NotAction":
			if haveAction {
				return nil, parseErr(path, "has both Action and NotAction")
			}
			haveAction, st.notAction = true, m.name == "NotAction"
			if st.actions, err = compileActions(m.val, ep, kind); err != nil {
				return nil, err
			}
		case "Resource", "NotResource":
			if kind == KindTrust {
				return nil, parseErr(ep, "not allowed in a trust policy")
			}
			if haveResource {
				return nil, parseErr(path, "has both Resource and NotResource")
			}
			haveResource, st.notResource = true, m.name == "NotResource"
			if st.resources, err = compileResources(m.val, ep, vars); err != nil {
				return nil, err
			}
		case "Principal", "NotPrincipal":
			if kind == KindIdentity {
				return nil, parseErr(ep, "not allowed in an identity policy")
			}
			if kind == KindTrust && m.name == "NotPrincipal" {
				return nil, parseErr(ep, "not allowed in a trust policy")
			}
			if havePrincipal {
				return nil, parseErr(path, "has both Principal and NotPrincipal")
			}
			havePrincipal, st.notPrincipal = true, m.name == "NotPrincipal"
			if st.principals, err = compilePrincipals(m.val, ep); err != nil {
				return nil, err
			}
		case "Condition":
			if st.conds, err = compileConditions(m.val, ep, vars); err != nil {
				return nil, err
			}
		default:
			return nil, parseErr(path, "unknown element %q", m.name)
		}
	}
	switch {
	case !haveEffect:
		return nil, parseErr(path, "missing Effect")
	case !haveAction:
		return nil, parseErr(path, "missing Action or NotAction")
	case !haveResource && kind != KindTrust:
		return nil, parseErr(path, "missing Resource or NotResource")
	case !havePrincipal && kind != KindIdentity:
		return nil, parseErr(path, "missing Principal or NotPrincipal")
	}
	return st, nil
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// actionSet matches actions case-insensitively: an exact index plus
// wildcard patterns, compiled once.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
type actionSet struct {
	any   bool
	exact map[string]struct{} // lower-case "service:action"
	pats  []pattern           // folded wildcard patterns
}

func compileActions(raw json.RawMessage, path string, kind Kind) (actionSet, error) {
	list, err := decodeStrings(raw, path)
	if err != nil {
		return actionSet{}, err
	}
	var s actionSet
	for _, a := range list {
		if a == "*" {
			if kind == KindTrust {
				return actionSet{}, parseErr(path, "%q: trust policies allow only sts actions", a)
			}
			s.any = true
			continue
		}
		svc, name, ok := strings.Cut(a, ":")
		if !ok || svc == "" || name == "" || hasWildcard(svc) || strings.ContainsAny(a, " \t\r\n") {
			return actionSet{}, parseErr(path, "invalid action %q: want \"service:Action\" (wildcards only in the action name)", a)
		}
		if kind == KindTrust && !strings.EqualFold(svc, "sts") {
			return actionSet{}, parseErr(path, "%q: trust policies allow only sts actions", a)
		}
		if hasWildcard(name) {
			s.pats = append(s.pats, compilePattern(a, true))
			continue
		}
		if s.exact == nil {
			s.exact = make(map[string]struct{})
		}
		s.exact[lowerASCII(a)] = struct{}{}
	}
	return s, nil
}

// match reports whether action (original case) matches; lower is the same
// action lower-cased.
func (s *actionSet) match(action string, lower []byte) bool {
	if s.any {
		return true
	}
	if _, ok := s.exact[string(lower)]; ok {
		return true
	}
	for i := range s.pats {
		if s.pats[i].match(action) {
			return true
		}
	}
	return false
}

// resourceSet matches resource ARNs case-sensitively. Exact ARNs and
// "prefix*" patterns (the common forms) are split out from general
// patterns; entries with policy variables are compiled per request.
type resourceSet struct {
	any      bool
	exact    map[string]struct{}
	prefixes []string
	pats     []pattern
	tmpls    []template
}

func compileResources(raw json.RawMessage, path string, vars bool) (*resourceSet, error) {
	list, err := decodeStrings(raw, path)
	if err != nil {
		return nil, err
	}
	s := &resourceSet{}
	for _, r := range list {
		if r == "*" {
			s.any = true
			continue
		}
		if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
			return nil, parseErr(path, "invalid resource %q: must be an ARN or \"*\"", r)
		}
		t, err := parseTemplate(r, vars)
		if err != nil {
			return nil, parseErr(path, "%v", err)
		}
		switch {
		case t.dynamic:
			s.tmpls = append(s.tmpls, t)
		case len(t.parts) == 1 && !hasWildcard(r):
			if s.exact == nil {
				s.exact = make(map[string]struct{})
			}
			s.exact[r] = struct{}{}
		case len(t.parts) == 1 && strings.IndexAny(r, "*?") == len(r)-1 && r[len(r)-1] == '*':
			s.prefixes = append(s.prefixes, r[:len(r)-1])
		default:
			s.pats = append(s.pats, compilePieces(t.static(), false))
		}
	}
	return s, nil
}

// match reports whether resource matches; unknown when a policy variable
// could not be resolved and nothing else matched.
func (s *resourceSet) match(resource string, ec *evalCtx) tri {
	if s.any {
		return yes
	}
	if _, ok := s.exact[resource]; ok {
		return yes
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(resource, p) {
			return yes
		}
	}
	for i := range s.pats {
		if s.pats[i].match(resource) {
			return yes
		}
	}
	r := no
	for i := range s.tmpls {
		pieces, ok := s.tmpls[i].resolve(ec)
		if !ok {
			r = unknown
			continue
		}
		if pat := compilePieces(pieces, false); pat.match(resource) {
			return yes
		}
	}
	return r
}
