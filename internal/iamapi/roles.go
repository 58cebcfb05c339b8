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

// RoleEditBackend reads and changes existing roles; *identity.Store
// implements it.
type RoleEditBackend interface {
	// GetRolePolicy returns an inline policy document of a role
	// (ErrNotFound when the role or the policy is missing).
	GetRolePolicy(ctx context.Context, role, name string) (string, error)
	// ListRolePolicies returns the inline policy names of a role, sorted.
	ListRolePolicies(ctx context.Context, role string) ([]string, error)
	// UpdateRole sets the description (when non-nil) and the maximum
	// session duration (when not 0).
	UpdateRole(ctx context.Context, name string, description *string, maxSession int) error
	// UpdateAssumeRolePolicy replaces the trust policy (ErrMalformedPolicy).
	UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error
}

type roleLastUsedXML struct {
	LastUsedDate *isoTime `xml:"LastUsedDate,omitempty"`
	Region       string   `xml:"Region,omitempty"`
}

// getRoleResult is GetRole's answer: the role with RoleLastUsed, which
// ListRoles leaves out, as on AWS.
type getRoleResult struct {
	Role struct {
		roleXML
		RoleLastUsed roleLastUsedXML `xml:"RoleLastUsed"`
	} `xml:"Role"`
}

func toGetRole(r *identity.Role) *getRoleResult {
	out := &getRoleResult{}
	out.Role.roleXML = toRole(r)
	out.Role.RoleLastUsed = roleLastUsedXML{LastUsedDate: optTime(r.LastUsed), Region: r.LastUsedRegion}
	return out
}

// updateRole answers an empty UpdateRoleResult.
func (a *API) updateRole(ctx context.Context, f *form) (any, error) {
	role := roleName(f)
	var desc *string
	if f.has("Description") {
		d := f.str("Description")
		f.check("Description", d, 0, 1000, nil)
		desc = &d
	}
	maxSession := f.integer("MaxSessionDuration", 0, 3600, 43200)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, "UpdateRole", role, nil); err != nil {
		return nil, err
	}
	if err := a.b.UpdateRole(ctx, role, desc, maxSession); err != nil {
		return nil, backendErr(err, entity{"role", role})
	}
	return &struct{}{}, nil
}

func (a *API) updateAssumeRolePolicy(ctx context.Context, f *form) (any, error) {
	role := roleName(f)
	doc := f.doc("PolicyDocument", true)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, "UpdateAssumeRolePolicy", role, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.UpdateAssumeRolePolicy(ctx, role, doc), entity{"role", role})
}
