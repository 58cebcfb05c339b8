package iam

import "context"

// Resource-based policies (a secret's policy) take part in authorization
// as on AWS within one account: the caller's identity policies and the
// resource's policy are evaluated together — an explicit Deny in either
// denies, an Allow in either allows.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html

type resourcePolicyKey struct{}

// WithResourcePolicy returns ctx carrying the compiled resource policy of
// the resource about to be authorized. Authorizers evaluate it together
// with the caller's identity policies.
func WithResourcePolicy(ctx context.Context, p *Policy) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, resourcePolicyKey{}, p)
}

// ResourcePolicyFrom returns the policy stored by WithResourcePolicy, or nil.
func ResourcePolicyFrom(ctx context.Context) *Policy {
	p, _ := ctx.Value(resourcePolicyKey{}).(*Policy)
	return p
}

// AllowsPublic reports whether the policy grants access to everyone: an
// Allow statement whose principal is "*" (or {"AWS": "*"}), or a
// NotPrincipal, without a condition narrowing it. Secrets Manager's
// BlockPublicPolicy refuses such policies.
func (p *Policy) AllowsPublic() bool {
	for _, s := range p.allow {
		if len(s.conds) > 0 {
			continue
		}
		if s.notPrincipal || (s.principals != nil && s.principals.any) {
			return true
		}
	}
	return false
}
