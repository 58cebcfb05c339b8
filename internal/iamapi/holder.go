package iamapi

import (
	"context"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/identity"
)

// holderAPI is one implementation of what users, roles and groups share:
// the inline policy actions (Put/Get/Delete/List<Kind>Policy/Policies)
// and the managed policy attachments (Attach/Detach<Kind>Policy,
// ListAttached<Kind>Policies), parameterised by the kind of holder.
type holderAPI struct {
	a      *API
	kind   string // entity kind in ARNs and errors: "user", "role", "group"
	title  string // in action names: "User", "Role", "Group"
	maxLen int    // of the name parameter <title>Name
	// load returns the holder's ARN, tags and policies (identity.ErrNotFound
	// when it does not exist).
	load func(ctx context.Context, name string) (arn string, tags identity.Tags, ps *identity.PolicySet, err error)

	put    func(ctx context.Context, holder, policy, doc string) error
	get    func(ctx context.Context, holder, policy string) (string, error)
	del    func(ctx context.Context, holder, policy string) error
	list   func(ctx context.Context, holder string) ([]string, error)
	attach func(ctx context.Context, holder, arn string) error
	detach func(ctx context.Context, holder, arn string) error
}

// holderOf adapts a backend getter of a record with a PolicySet.
func holderOf[T any](get func(context.Context, string) (*T, error), describe func(*T) (string, identity.Tags, *identity.PolicySet)) func(context.Context, string) (string, identity.Tags, *identity.PolicySet, error) {
	return func(ctx context.Context, name string) (string, identity.Tags, *identity.PolicySet, error) {
		v, err := get(ctx, name)
		if err != nil {
			return "", nil, nil, err
		}
		arn, tags, ps := describe(v)
		return arn, tags, ps, nil
	}
}

func (a *API) userHolder() *holderAPI {
	b := a.b
	return &holderAPI{a: a, kind: "user", title: "User", maxLen: 128,
		load: holderOf(b.GetUser, func(u *identity.User) (string, identity.Tags, *identity.PolicySet) {
			return u.ARN, u.Tags, &u.PolicySet
		}),
		put: b.PutUserPolicy, get: b.GetUserPolicy, del: b.DeleteUserPolicy, list: b.ListUserPolicies,
		attach: b.AttachUserPolicy, detach: b.DetachUserPolicy}
}

func (a *API) roleHolder() *holderAPI {
	b := a.b
	return &holderAPI{a: a, kind: "role", title: "Role", maxLen: 64,
		load: holderOf(b.GetRole, func(r *identity.Role) (string, identity.Tags, *identity.PolicySet) {
			return r.ARN, r.Tags, &r.PolicySet
		}),
		put: b.PutRolePolicy, get: b.GetRolePolicy, del: b.DeleteRolePolicy, list: b.ListRolePolicies,
		attach: b.AttachRolePolicy, detach: b.DetachRolePolicy}
}

func (a *API) groupHolder() *holderAPI {
	b := a.b
	return &holderAPI{a: a, kind: "group", title: "Group", maxLen: 128,
		load: holderOf(b.GetGroup, func(g *identity.Group) (string, identity.Tags, *identity.PolicySet) { return g.ARN, nil, &g.PolicySet }),
		put:  b.PutGroupPolicy, get: b.GetGroupPolicy, del: b.DeleteGroupPolicy, list: b.ListGroupPolicies,
		attach: b.AttachGroupPolicy, detach: b.DetachGroupPolicy}
}

// register adds the holder's policy actions to ops.
func (h *holderAPI) register(ops map[string]opFunc) {
	t := h.title
	ops["Put"+t+"Policy"], ops["Get"+t+"Policy"], ops["Delete"+t+"Policy"] = h.putPolicy, h.getPolicy, h.deletePolicy
	ops["List"+t+"Policies"], ops["ListAttached"+t+"Policies"] = h.listPolicies, h.listAttached
	ops["Attach"+t+"Policy"] = func(ctx context.Context, f *form) (any, error) { return h.attachment(ctx, f, "Attach", h.attach) }
	ops["Detach"+t+"Policy"] = func(ctx context.Context, f *form) (any, error) { return h.attachment(ctx, f, "Detach", h.detach) }
}

// name reads the required <Title>Name parameter.
func (h *holderAPI) name(f *form) string {
	param := h.title + "Name"
	name := f.required(param)
	f.check(param, name, 1, h.maxLen, reName)
	return name
}

// resolve loads holder name and authorizes action on its ARN, like
// resolveUser: a caller not allowed learns nothing of its existence.
func (h *holderAPI) resolve(ctx context.Context, action, name string, extra keys) (*identity.PolicySet, error) {
	type loaded struct {
		arn  string
		tags identity.Tags
		ps   *identity.PolicySet
	}
	v, err := resolve(ctx, h.a, action, h.kind, name, func(ctx context.Context, name string) (loaded, error) {
		arn, tags, ps, err := h.load(ctx, name)
		return loaded{arn, tags, ps}, err
	}, func(l loaded) (string, identity.Tags) { return l.arn, l.tags }, extra)
	return v.ps, err
}

func (h *holderAPI) putPolicy(ctx context.Context, f *form) (any, error) {
	holder := h.name(f)
	name := policyName(f)
	doc := f.doc("PolicyDocument", true)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := h.resolve(ctx, "Put"+h.title+"Policy", holder, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(h.put(ctx, holder, name, doc), entity{h.kind, holder})
}

// inlinePolicyResult is Get<Kind>PolicyResult: the holder's name under
// its kind's element, the policy name and the URL-encoded document.
type inlinePolicyResult struct {
	UserName       string `xml:"UserName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (h *holderAPI) getPolicy(ctx context.Context, f *form) (any, error) {
	holder := h.name(f)
	name := policyName(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := h.resolve(ctx, "Get"+h.title+"Policy", holder, nil); err != nil {
		return nil, err
	}
	doc, err := h.get(ctx, holder, name)
	if err != nil {
		return nil, backendErr(err, entity{h.kind, holder})
	}
	out := &inlinePolicyResult{PolicyName: name, PolicyDocument: encodeDoc(doc)}
	switch h.kind {
	case "user":
		out.UserName = holder
	case "role":
		out.RoleName = holder
	default:
		out.GroupName = holder
	}
	return out, nil
}

func (h *holderAPI) deletePolicy(ctx context.Context, f *form) (any, error) {
	holder := h.name(f)
	name := policyName(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := h.resolve(ctx, "Delete"+h.title+"Policy", holder, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(h.del(ctx, holder, name), entity{h.kind, holder})
}

type listInlinePoliciesResult struct {
	PolicyNames members[string] `xml:"PolicyNames"`
	page
}

func (h *holderAPI) listPolicies(ctx context.Context, f *form) (any, error) {
	holder := h.name(f)
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := h.resolve(ctx, "List"+h.title+"Policies", holder, nil); err != nil {
		return nil, err
	}
	names, err := h.list(ctx, holder)
	if err != nil {
		return nil, backendErr(err, entity{h.kind, holder})
	}
	slices.Sort(names)
	got, pg, err := paginate(names, func(s string) string { return s }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &listInlinePoliciesResult{PolicyNames: list(got), page: pg}, nil
}

// attachment runs Attach/Detach<Kind>Policy: authorized on the holder, as
// on AWS (the policy ARN is the iam:PolicyARN condition key there).
func (h *holderAPI) attachment(ctx context.Context, f *form, verb string, fn func(ctx context.Context, holder, arn string) error) (any, error) {
	holder := h.name(f)
	policyARN := policyARNParam(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := validARN(policyARN); err != nil {
		return nil, err
	}
	action := verb + h.title + "Policy"
	if _, err := h.resolve(ctx, action, holder, keys{"iam:policyarn": {policyARN}}); err != nil {
		return nil, err
	}
	return nil, attachErr(fn(ctx, holder, policyARN), action, policyARN)
}

func (h *holderAPI) listAttached(ctx context.Context, f *form) (any, error) {
	holder := h.name(f)
	prefix, maxItems, marker := attachedListParams(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	ps, err := h.resolve(ctx, "ListAttached"+h.title+"Policies", holder, nil)
	if err != nil {
		return nil, err
	}
	return attachedPolicies(ps.AttachedPolicies, prefix, marker, maxItems)
}

// listByPath runs a List<Kind>s action: PathPrefix and pagination,
// authorized on arn:aws:iam::ACCOUNT:<kind><prefix> as on AWS, the
// entities load returns under the prefix sorted by name, rendered.
func listByPath[T, X any](ctx context.Context, a *API, f *form, action, kind string, load func(ctx context.Context, prefix string) ([]T, error),
	name func(T) string, render func(T) X) (members[X], page, error) {
	prefix := f.str("PathPrefix")
	f.check("PathPrefix", prefix, 1, 512, rePathPrefix)
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return members[X]{}, page{}, err
	}
	if prefix == "" {
		prefix = "/"
	}
	if err := a.authorize(ctx, action, "arn:aws:iam::"+a.account+":"+kind+prefix); err != nil {
		return members[X]{}, page{}, err
	}
	all, err := load(ctx, prefix)
	if err != nil {
		return members[X]{}, page{}, backendErr(err, entity{})
	}
	return sortedPage(all, name, render, marker, maxItems)
}

// sortedPage sorts items by name and renders the page after marker.
func sortedPage[T, X any](items []T, name func(T) string, render func(T) X, marker string, maxItems int) (members[X], page, error) {
	slices.SortFunc(items, func(x, y T) int { return strings.Compare(name(x), name(y)) })
	got, pg, err := paginate(items, name, marker, maxItems)
	if err != nil {
		return members[X]{}, page{}, err
	}
	out := make([]X, 0, len(got))
	for _, it := range got {
		out = append(out, render(it))
	}
	return list(out), pg, nil
}
