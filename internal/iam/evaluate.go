package iam

import (
	"fmt"
	"strings"
)

// Request is one authorization question.
type Request struct {
	// Action is "service:Action", e.g. "rds-data:ExecuteStatement"; matched
	// case-insensitively.
	Action string
	// Resource is the target ARN; matched case-sensitively.
	Resource string
	// Principal is the caller; nil means anonymous.
	Principal *Principal
	// Context holds condition keys by lower-case name ("aws:sourceip",
	// "aws:securetransport" = "true"/"false", "aws:currenttime" in RFC 3339,
	// "secretsmanager:resourcetag/team", …). aws:PrincipalArn,
	// aws:username, aws:userid, aws:PrincipalAccount, aws:PrincipalType,
	// aws:CurrentTime and aws:EpochTime are derived from Principal and the
	// clock when absent.
	Context map[string][]string
	// LazyContext, when Context is nil, builds Context the first time an
	// evaluation reads a condition key or a policy variable, so a call
	// whose policies have neither never pays for it. Evaluate sets Context
	// from it, so the Request is then not safe for concurrent use.
	LazyContext func() map[string][]string
}

// Decision is the outcome of an evaluation.
type Decision int

const (
	// DecisionImplicitDeny: no statement allowed the request.
	DecisionImplicitDeny Decision = iota
	// DecisionAllow: a statement allowed it and none denied it.
	DecisionAllow
	// DecisionExplicitDeny: a Deny statement applied (or evaluation failed
	// closed).
	DecisionExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case DecisionImplicitDeny:
		return "implicitDeny"
	case DecisionAllow:
		return "allowed"
	case DecisionExplicitDeny:
		return "explicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Result is a decision and what made it.
type Result struct {
	Decision Decision
	// Policy is the index into the evaluated policies of the deciding
	// policy, or -1 for an implicit deny.
	Policy int
	// Statement is the deciding statement's Sid, or "Statement[i]".
	Statement string
}

// Allowed reports whether the request is allowed.
func (r Result) Allowed() bool { return r.Decision == DecisionAllow }

// Evaluate evaluates the policies that apply to one request (for a
// principal: its identity policies; with a resource policy in the same
// account, both): an explicit Deny in any policy wins, else any Allow
// allows, else the request is implicitly denied.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//
// Evaluate fails closed: a malformed request is implicitly denied; a nil
// policy in the list, or a panic, is an explicit deny; a statement that
// cannot be decided (see tri) denies if it is a Deny and grants nothing if
// it is an Allow.
func Evaluate(policies []*Policy, req *Request) (res Result) {
	res = Result{Decision: DecisionImplicitDeny, Policy: -1}
	if req == nil || !validAction(req.Action) {
		return res
	}
	defer func() {
		if r := recover(); r != nil {
			res = Result{Decision: DecisionExplicitDeny, Policy: -1, Statement: "BUG: evaluation panicked"}
		}
	}()
	var buf [128]byte
	ec := evalCtx{req: req, lower: appendLower(buf[:0], req.Action)}
	for i, p := range policies {
		if p == nil {
			return Result{Decision: DecisionExplicitDeny, Policy: i, Statement: "nil policy"}
		}
		for _, s := range p.deny {
			if s.applies(&ec) != no {
				return Result{Decision: DecisionExplicitDeny, Policy: i, Statement: s.name}
			}
		}
	}
	for i, p := range policies {
		for _, s := range p.allow {
			if s.applies(&ec) == yes {
				return Result{Decision: DecisionAllow, Policy: i, Statement: s.name}
			}
		}
	}
	return res
}

// applies reports whether the statement matches the request.
func (s *statement) applies(ec *evalCtx) tri {
	if s.actions.match(ec.req.Action, ec.lower) == s.notAction {
		return no
	}
	r := yes
	if s.resources != nil {
		r = s.resources.match(ec.req.Resource, ec)
		if s.notResource {
			r = r.not()
		}
		if r == no {
			return no
		}
	}
	if s.principals != nil && s.principals.match(ec.req.Principal) == s.notPrincipal {
		return no
	}
	if len(s.conds) > 0 {
		r = and(r, evalConditions(s.conds, ec))
	}
	return r
}

// validAction reports whether a requested action is a concrete
// "service:Action" (no wildcards: a request never asks for a pattern).
func validAction(a string) bool {
	svc, name, ok := strings.Cut(a, ":")
	return ok && svc != "" && name != "" && !strings.ContainsAny(a, "*?")
}

// appendLower appends the ASCII-lower-cased s to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, lowerByte(s[i]))
	}
	return dst
}
