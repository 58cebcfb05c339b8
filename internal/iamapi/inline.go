package iamapi

import (
	"context"
	"slices"
)

type getUserPolicyResult struct {
	UserName       string `xml:"UserName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type listUserPoliciesResult struct {
	PolicyNames members[string] `xml:"PolicyNames"`
	page
}

func (a *API) putUserPolicy(ctx context.Context, f *form) (any, error) {
	user := userName(f, "UserName")
	name := policyName(f)
	doc := f.doc("PolicyDocument", true)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "PutUserPolicy", user, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.PutUserPolicy(ctx, user, name, doc), entity{"user", user})
}

func (a *API) getUserPolicy(ctx context.Context, f *form) (any, error) {
	user := userName(f, "UserName")
	name := policyName(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "GetUserPolicy", user, nil); err != nil {
		return nil, err
	}
	doc, err := a.b.GetUserPolicy(ctx, user, name)
	if err != nil {
		return nil, backendErr(err, entity{"user", user})
	}
	return &getUserPolicyResult{UserName: user, PolicyName: name, PolicyDocument: encodeDoc(doc)}, nil
}

func (a *API) deleteUserPolicy(ctx context.Context, f *form) (any, error) {
	user := userName(f, "UserName")
	name := policyName(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "DeleteUserPolicy", user, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.DeleteUserPolicy(ctx, user, name), entity{"user", user})
}

func (a *API) listUserPolicies(ctx context.Context, f *form) (any, error) {
	user := userName(f, "UserName")
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "ListUserPolicies", user, nil); err != nil {
		return nil, err
	}
	names, err := a.b.ListUserPolicies(ctx, user)
	if err != nil {
		return nil, backendErr(err, entity{"user", user})
	}
	slices.Sort(names)
	got, pg, err := paginate(names, func(s string) string { return s }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &listUserPoliciesResult{PolicyNames: list(got), page: pg}, nil
}

func (a *API) attachUserPolicy(ctx context.Context, f *form) (any, error) {
	return a.userAttachment(ctx, f, "AttachUserPolicy", a.b.AttachUserPolicy)
}

func (a *API) detachUserPolicy(ctx context.Context, f *form) (any, error) {
	return a.userAttachment(ctx, f, "DetachUserPolicy", a.b.DetachUserPolicy)
}

// userAttachment runs Attach/DetachUserPolicy: authorized on the user, as
// on AWS (the policy ARN is the iam:PolicyARN condition key there).
func (a *API) userAttachment(ctx context.Context, f *form, action string, fn func(ctx context.Context, user, arn string) error) (any, error) {
	user := f.required("UserName")
	f.check("UserName", user, 1, 64, reName)
	policyARN := policyARNParam(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := validARN(policyARN); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, action, user, keys{"iam:policyarn": {policyARN}}); err != nil {
		return nil, err
	}
	return nil, attachErr(fn(ctx, user, policyARN), action, policyARN)
}

func (a *API) listAttachedUserPolicies(ctx context.Context, f *form) (any, error) {
	user := f.required("UserName")
	f.check("UserName", user, 1, 64, reName)
	prefix, maxItems, marker := attachedListParams(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	u, err := a.resolveUser(ctx, "ListAttachedUserPolicies", user, nil)
	if err != nil {
		return nil, err
	}
	return attachedPolicies(u.AttachedPolicies, prefix, marker, maxItems)
}
