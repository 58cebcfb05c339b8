package iamapi

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/identity"
)

type policyResult struct {
	Policy policyXML `xml:"Policy"`
}

type listPoliciesResult struct {
	Policies members[policyXML] `xml:"Policies"`
	page
}

type policyVersionResult struct {
	PolicyVersion policyVersionXML `xml:"PolicyVersion"`
}

type listAttachedPoliciesResult struct {
	AttachedPolicies members[attachedPolicyXML] `xml:"AttachedPolicies"`
	page
}

// policyName reads a required PolicyName (policyNameType: 1..128).
func policyName(f *form) string {
	name := f.required("PolicyName")
	f.check("PolicyName", name, 1, 128, reName)
	return name
}

// policyARNParam reads a required PolicyArn (arnType: 20..2048).
func policyARNParam(f *form) string {
	arn := f.required("PolicyArn")
	f.check("PolicyArn", arn, 20, 2048, nil)
	return arn
}

// validARN rejects what cannot be an ARN before it reaches the
// authorizer or the store.
func validARN(arn string) error {
	if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") < 5 {
		return errInvalidInput("ARN " + short(arn) + " is not valid.")
	}
	return nil
}

// splitPolicyARN returns the path and name of arn:aws:iam::ACCT:policy/PATH/NAME.
func splitPolicyARN(arn string) (path, name string) {
	_, res, _ := strings.Cut(arn, ":policy")
	i := strings.LastIndexByte(res, '/')
	if i < 0 {
		return "/", res
	}
	return res[:i+1], res[i+1:]
}

// attachErr maps Attach/Detach*Policy failures: a missing policy is
// reported in AWS's words for each direction.
func attachErr(err error, action, policyARN string) error {
	if err == nil {
		return nil
	}
	e := backendErr(err, entity{"policy", policyARN})
	var apiErr *Error
	if errors.As(e, &apiErr) && err == identity.ErrNotFound && strings.HasPrefix(action, "Attach") {
		apiErr.Msg = "Policy " + policyARN + " does not exist or is not attachable."
	}
	return e
}

// resolvePolicy validates arn and authorizes action on it, then loads it.
// A caller not allowed on the policy learns nothing of its existence.
func (a *API) resolvePolicy(ctx context.Context, action, arn string, extra keys) (*identity.ManagedPolicy, error) {
	if err := validARN(arn); err != nil {
		return nil, err
	}
	return resolve(ctx, a, action, "policy", arn, a.b.GetPolicy, func(p *identity.ManagedPolicy) (string, identity.Tags) { return p.ARN, p.Tags }, extra)
}

func (a *API) createPolicy(ctx context.Context, f *form) (any, error) {
	name := policyName(f)
	path := f.str("Path")
	f.check("Path", path, 1, 512, rePolicyPath)
	doc := f.doc("PolicyDocument", true)
	desc := f.str("Description")
	f.check("Description", desc, 0, 1000, nil)
	tags := readTags(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := a.authorizeWith(ctx, "CreatePolicy", a.arn("policy", path, name), requestTagKeys(tags)); err != nil {
		return nil, err
	}
	p, err := a.b.CreatePolicy(ctx, name, path, doc, desc, tags...)
	if err != nil {
		return nil, backendErr(err, entity{"policy", name})
	}
	return &policyResult{Policy: toPolicy(p)}, nil
}

func (a *API) getPolicy(ctx context.Context, f *form) (any, error) {
	arn := policyARNParam(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	p, err := a.resolvePolicy(ctx, "GetPolicy", arn, nil)
	if err != nil {
		return nil, err
	}
	return &policyResult{Policy: toPolicy(p)}, nil
}

func (a *API) getPolicyVersion(ctx context.Context, f *form) (any, error) {
	arn := policyARNParam(f)
	version := f.required("VersionId")
	f.check("VersionId", version, 1, 128, reVersionID)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolvePolicy(ctx, "GetPolicyVersion", arn, nil); err != nil {
		return nil, err
	}
	v, err := a.b.GetPolicyVersion(ctx, arn, version)
	if err != nil {
		return nil, backendErr(err, entity{"policy", arn})
	}
	return &policyVersionResult{PolicyVersion: toPolicyVersion(v, true)}, nil
}

func (a *API) listPolicies(ctx context.Context, f *form) (any, error) {
	scope := f.enum("Scope", "All", "AWS", "Local")
	onlyAttached := f.boolean("OnlyAttached")
	prefix := f.str("PathPrefix")
	f.check("PathPrefix", prefix, 1, 512, rePolicyPath)
	f.enum("PolicyUsageFilter", "PermissionsPolicy", "PermissionsBoundary")
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = "/"
	}
	// AWS reports "policy path /" as the resource; an ARN-shaped resource
	// lets "arn:aws:iam::ACCOUNT:*" grant it as well as "*".
	if err := a.authorize(ctx, "ListPolicies", "arn:aws:iam::"+a.account+":policy"+prefix); err != nil {
		return nil, err
	}
	var all []*identity.ManagedPolicy
	if scope != "AWS" && f.str("PolicyUsageFilter") != "PermissionsBoundary" { // no AWS managed policies, no boundaries
		var err error
		if all, err = a.b.ListPolicies(ctx); err != nil {
			return nil, backendErr(err, entity{})
		}
	}
	all = slices.DeleteFunc(all, func(p *identity.ManagedPolicy) bool {
		return !strings.HasPrefix(p.Path, prefix) || (onlyAttached && p.AttachmentCount == 0)
	})
	slices.SortFunc(all, func(x, y *identity.ManagedPolicy) int { return strings.Compare(x.ARN, y.ARN) })
	got, pg, err := paginate(all, func(p *identity.ManagedPolicy) string { return p.ARN }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &listPoliciesResult{page: pg, Policies: list(make([]policyXML, 0, len(got)))}
	for _, p := range got {
		out.Policies.Member = append(out.Policies.Member, toPolicy(p))
	}
	return out, nil
}

func (a *API) deletePolicy(ctx context.Context, f *form) (any, error) {
	arn := policyARNParam(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolvePolicy(ctx, "DeletePolicy", arn, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.DeletePolicy(ctx, arn), entity{"policy", arn})
}

func (a *API) createPolicyVersion(ctx context.Context, f *form) (any, error) {
	arn := policyARNParam(f)
	doc := f.doc("PolicyDocument", true)
	setDefault := f.boolean("SetAsDefault")
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolvePolicy(ctx, "CreatePolicyVersion", arn, nil); err != nil {
		return nil, err
	}
	v, err := a.b.CreatePolicyVersion(ctx, arn, doc, setDefault)
	if err != nil {
		return nil, backendErr(err, entity{"policy", arn})
	}
	// AWS leaves the document out of CreatePolicyVersion's answer.
	return &policyVersionResult{PolicyVersion: toPolicyVersion(v, false)}, nil
}

// attachedListParams reads PathPrefix, MaxItems and Marker of
// ListAttached*Policies.
func attachedListParams(f *form) (prefix string, maxItems int, marker string) {
	prefix = f.str("PathPrefix")
	f.check("PathPrefix", prefix, 1, 512, rePolicyPath)
	maxItems, marker = f.pagination()
	if prefix == "" {
		prefix = "/"
	}
	return prefix, maxItems, marker
}

// attachedPolicies pages a user's or role's attached policy ARNs.
func attachedPolicies(arns []string, prefix, marker string, maxItems int) (any, error) {
	var items []attachedPolicyXML
	for _, arn := range arns {
		path, name := splitPolicyARN(arn)
		if strings.HasPrefix(path, prefix) {
			items = append(items, attachedPolicyXML{PolicyName: name, PolicyArn: arn})
		}
	}
	slices.SortFunc(items, func(x, y attachedPolicyXML) int { return strings.Compare(x.PolicyArn, y.PolicyArn) })
	got, pg, err := paginate(items, func(p attachedPolicyXML) string { return p.PolicyArn }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &listAttachedPoliciesResult{AttachedPolicies: list(got), page: pg}, nil
}
