package iamapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/identity"
)

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
