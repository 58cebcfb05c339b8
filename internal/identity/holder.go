package identity

import (
	"context"
	"maps"
	"slices"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// PolicySet is what users, roles and groups share: inline policies and
// attached managed policies. It is embedded in each, so its fields keep
// their JSON names in the stored records.
type PolicySet struct {
	// InlinePolicies maps policy name → JSON document.
	InlinePolicies map[string]string `json:"inline_policies,omitempty"`
	// AttachedPolicies are managed policy ARNs.
	AttachedPolicies []string `json:"attached_policies,omitempty"`
}

func (p *PolicySet) policySet() *PolicySet { return p }

// empty reports whether the set holds no policy (a holder can be deleted).
func (p *PolicySet) empty() bool { return len(p.InlinePolicies) == 0 && len(p.AttachedPolicies) == 0 }

// holder is a stored record type with a PolicySet: *User, *Role or *Group.
type holder[T any] interface {
	*T
	policySet() *PolicySet
}

// holderKind says where one kind of holder is stored and how AWS names it
// in messages ("user", "role", "group").
type holderKind struct {
	ns, name    string
	inlineLimit int
}

var (
	userKind  = holderKind{ns: nsUsers, name: "user", inlineLimit: iam.MaxUserInlinePolicySize}
	roleKind  = holderKind{ns: nsRoles, name: "role", inlineLimit: iam.MaxRoleInlinePolicySize}
	groupKind = holderKind{ns: nsGroups, name: "group", inlineLimit: iam.MaxGroupInlinePolicySize}
)

// editPolicies applies fn to the PolicySet of holder key and invalidates
// the authorization cache (the watch does the same on other nodes).
func editPolicies[T any, P holder[T]](ctx context.Context, s *Store, k holderKind, key string, fn func(*PolicySet) error) error {
	err := update(ctx, s.st, k.ns, key, false, func(v *T) (*T, error) {
		if err := fn(P(v).policySet()); err != nil {
			return nil, err
		}
		return v, nil
	})
	s.invalidate()
	return err
}

// putInline creates or replaces an inline policy of a holder.
func putInline[T any, P holder[T]](ctx context.Context, s *Store, k holderKind, key, name, doc string) error {
	if err := validName("policy", name); err != nil {
		return err
	}
	if err := checkPolicy(doc, k.inlineLimit); err != nil {
		return err
	}
	return editPolicies[T, P](ctx, s, k, key, func(ps *PolicySet) error {
		if ps.InlinePolicies == nil {
			ps.InlinePolicies = map[string]string{}
		}
		ps.InlinePolicies[name] = doc
		return nil
	})
}

// getInline returns an inline policy document of a holder.
func getInline[T any, P holder[T]](ctx context.Context, s *Store, k holderKind, key, name string) (string, error) {
	v, err := get[T](ctx, s.st, k.ns, key)
	if err != nil {
		return "", err
	}
	doc, ok := P(v).policySet().InlinePolicies[name]
	if !ok {
		return "", errf(ErrNotFound, "The %s policy with name %s cannot be found.", k.name, name)
	}
	return doc, nil
}

// deleteInline deletes an inline policy of a holder.
func deleteInline[T any, P holder[T]](ctx context.Context, s *Store, k holderKind, key, name string) error {
	return editPolicies[T, P](ctx, s, k, key, func(ps *PolicySet) error {
		if _, ok := ps.InlinePolicies[name]; !ok {
			return errf(ErrNotFound, "The %s policy with name %s cannot be found.", k.name, name)
		}
		delete(ps.InlinePolicies, name)
		return nil
	})
}

// listInline returns the inline policy names of a holder, sorted.
func listInline[T any, P holder[T]](ctx context.Context, s *Store, k holderKind, key string) ([]string, error) {
	v, err := get[T](ctx, s.st, k.ns, key)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(P(v).policySet().InlinePolicies)), nil
}

// attach attaches an existing managed policy to a holder.
func attach[T any, P holder[T]](ctx context.Context, s *Store, k holderKind, key, arn string) error {
	if _, err := s.GetPolicy(ctx, arn); err != nil {
		return err
	}
	return editPolicies[T, P](ctx, s, k, key, func(ps *PolicySet) error {
		if !slices.Contains(ps.AttachedPolicies, arn) {
			ps.AttachedPolicies = append(ps.AttachedPolicies, arn)
		}
		return nil
	})
}

// detach detaches a managed policy from a holder.
func detach[T any, P holder[T]](ctx context.Context, s *Store, k holderKind, key, arn string) error {
	return editPolicies[T, P](ctx, s, k, key, func(ps *PolicySet) error {
		i := slices.Index(ps.AttachedPolicies, arn)
		if i < 0 {
			return errf(ErrNotFound, "Policy %s was not found.", arn)
		}
		ps.AttachedPolicies = slices.Delete(ps.AttachedPolicies, i, i+1)
		return nil
	})
}

// PutUserPolicy creates or replaces an inline policy of a user.
func (s *Store) PutUserPolicy(ctx context.Context, user, name, doc string) error {
	return putInline[User](ctx, s, userKind, user, name, doc)
}

// GetUserPolicy returns an inline policy document of a user.
func (s *Store) GetUserPolicy(ctx context.Context, user, name string) (string, error) {
	return getInline[User](ctx, s, userKind, user, name)
}

// DeleteUserPolicy deletes an inline policy of a user.
func (s *Store) DeleteUserPolicy(ctx context.Context, user, name string) error {
	return deleteInline[User](ctx, s, userKind, user, name)
}

// ListUserPolicies returns the inline policy names of a user, sorted.
func (s *Store) ListUserPolicies(ctx context.Context, user string) ([]string, error) {
	return listInline[User](ctx, s, userKind, user)
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Store) AttachUserPolicy(ctx context.Context, user, arn string) error {
	return attach[User](ctx, s, userKind, user, arn)
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Store) DetachUserPolicy(ctx context.Context, user, arn string) error {
	return detach[User](ctx, s, userKind, user, arn)
}

// PutRolePolicy creates or replaces an inline policy of a role.
func (s *Store) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	return putInline[Role](ctx, s, roleKind, role, name, doc)
}

// GetRolePolicy returns an inline policy document of a role.
func (s *Store) GetRolePolicy(ctx context.Context, role, name string) (string, error) {
	return getInline[Role](ctx, s, roleKind, role, name)
}

// DeleteRolePolicy deletes an inline policy of a role.
func (s *Store) DeleteRolePolicy(ctx context.Context, role, name string) error {
	return deleteInline[Role](ctx, s, roleKind, role, name)
}

// ListRolePolicies returns the names of a role's inline policies, sorted.
func (s *Store) ListRolePolicies(ctx context.Context, role string) ([]string, error) {
	return listInline[Role](ctx, s, roleKind, role)
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Store) AttachRolePolicy(ctx context.Context, role, arn string) error {
	return attach[Role](ctx, s, roleKind, role, arn)
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Store) DetachRolePolicy(ctx context.Context, role, arn string) error {
	return detach[Role](ctx, s, roleKind, role, arn)
}
