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
	return toGetRole(r), nil
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
	load := func(ctx context.Context, prefix string) ([]*identity.Role, error) {
		roles, err := a.b.ListRoles(ctx)
		return slices.DeleteFunc(roles, func(r *identity.Role) bool { return !strings.HasPrefix(r.Path, prefix) }), err
	}
	roles, pg, err := listByPath(ctx, a, f, "ListRoles", "role", load, func(r *identity.Role) string { return r.RoleName }, toRole)
	if err != nil {
		return nil, err
	}
	return &listRolesResult{Roles: roles, page: pg}, nil
}
