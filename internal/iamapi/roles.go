package iamapi

import (
	"context"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/identity"
)

type roleResult struct {
	Role roleXML `xml:"Role"`
}

type listRolesResult struct {
	Roles members[roleXML] `xml:"Roles"`
	page
}

// roleName reads a required role name (roleNameType: 1..64).
func roleName(f *form) string {
	name := f.required("RoleName")
	f.check("RoleName", name, 1, 64, reName)
	return name
}

// resolveRole loads a role and authorizes action on its ARN, like
// resolveUser.
func (a *API) resolveRole(ctx context.Context, action, name string, extra keys) (*identity.Role, error) {
	return resolve(ctx, a, action, "role", name, a.b.GetRole, func(r *identity.Role) (string, identity.Tags) { return r.ARN, r.Tags }, extra)
}

func (a *API) createRole(ctx context.Context, f *form) (any, error) {
	name := roleName(f)
	path := f.str("Path")
	f.check("Path", path, 1, 512, rePath)
	trust := f.doc("AssumeRolePolicyDocument", true)
	desc := f.str("Description")
	f.check("Description", desc, 0, 1000, nil)
	maxSession := f.integer("MaxSessionDuration", 0, 3600, 43200)
	tags := readTags(f)
	noBoundary(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := a.authorizeWith(ctx, "CreateRole", a.arn("role", path, name), requestTagKeys(tags)); err != nil {
		return nil, err
	}
	r, err := a.b.CreateRole(ctx, name, path, trust, desc, maxSession, tags...)
	if err != nil {
		return nil, backendErr(err, entity{"role", name})
	}
	return &roleResult{Role: toRole(r)}, nil
}

func (a *API) getRole(ctx context.Context, f *form) (any, error) {
	name := roleName(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	r, err := a.resolveRole(ctx, "GetRole", name, nil)
	if err != nil {
		return nil, err
	}
	return &roleResult{Role: toRole(r)}, nil
}

func (a *API) deleteRole(ctx context.Context, f *form) (any, error) {
	name := roleName(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, "DeleteRole", name, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.DeleteRole(ctx, name), entity{"role", name})
}

func (a *API) listRoles(ctx context.Context, f *form) (any, error) {
	prefix := f.str("PathPrefix")
	f.check("PathPrefix", prefix, 1, 512, rePathPrefix)
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = "/"
	}
	if err := a.authorize(ctx, "ListRoles", "arn:aws:iam::"+a.account+":role"+prefix); err != nil {
		return nil, err
	}
	roles, err := a.b.ListRoles(ctx)
	if err != nil {
		return nil, backendErr(err, entity{})
	}
	roles = slices.DeleteFunc(roles, func(r *identity.Role) bool { return !strings.HasPrefix(r.Path, prefix) })
	slices.SortFunc(roles, func(x, y *identity.Role) int { return strings.Compare(x.RoleName, y.RoleName) })
	got, pg, err := paginate(roles, func(r *identity.Role) string { return r.RoleName }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &listRolesResult{page: pg, Roles: list(make([]roleXML, 0, len(got)))}
	for _, r := range got {
		out.Roles.Member = append(out.Roles.Member, toRole(r))
	}
	return out, nil
}

func (a *API) putRolePolicy(ctx context.Context, f *form) (any, error) {
	role := roleName(f)
	name := policyName(f)
	doc := f.doc("PolicyDocument", true)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, "PutRolePolicy", role, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.PutRolePolicy(ctx, role, name, doc), entity{"role", role})
}

// deleteRolePolicy removes an inline policy; without it a role given one
// by PutRolePolicy could never be deleted (DeleteRole needs it gone).
func (a *API) deleteRolePolicy(ctx context.Context, f *form) (any, error) {
	role := roleName(f)
	name := policyName(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, "DeleteRolePolicy", role, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.DeleteRolePolicy(ctx, role, name), entity{"role", role})
}

func (a *API) attachRolePolicy(ctx context.Context, f *form) (any, error) {
	return a.roleAttachment(ctx, f, "AttachRolePolicy", a.b.AttachRolePolicy)
}

func (a *API) detachRolePolicy(ctx context.Context, f *form) (any, error) {
	return a.roleAttachment(ctx, f, "DetachRolePolicy", a.b.DetachRolePolicy)
}

// roleAttachment runs Attach/DetachRolePolicy: authorized on the role.
func (a *API) roleAttachment(ctx context.Context, f *form, action string, fn func(ctx context.Context, role, arn string) error) (any, error) {
	role := roleName(f)
	policyARN := policyARNParam(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := validARN(policyARN); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, action, role, keys{"iam:policyarn": {policyARN}}); err != nil {
		return nil, err
	}
	return nil, attachErr(fn(ctx, role, policyARN), action, policyARN)
}

func (a *API) listAttachedRolePolicies(ctx context.Context, f *form) (any, error) {
	name := roleName(f)
	prefix, maxItems, marker := attachedListParams(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	r, err := a.resolveRole(ctx, "ListAttachedRolePolicies", name, nil)
	if err != nil {
		return nil, err
	}
	return attachedPolicies(r.AttachedPolicies, prefix, marker, maxItems)
}
