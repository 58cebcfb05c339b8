package identity

import (
	"context"
	"maps"
	"slices"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// PutUserPolicy creates or replaces an inline policy of a user.
func (s *Store) PutUserPolicy(ctx context.Context, user, name, doc string) error {
	if err := validName("policy", name); err != nil {
		return err
	}
	if err := checkPolicy(doc, iam.MaxUserInlinePolicySize); err != nil {
		return err
	}
	err := update(ctx, s.st, nsUsers, user, false, func(u *User) (*User, error) {
		if u.InlinePolicies == nil {
			u.InlinePolicies = map[string]string{}
		}
		u.InlinePolicies[name] = doc
		return u, nil
	})
	s.invalidate()
	return err
}

// GetUserPolicy returns an inline policy document of a user.
func (s *Store) GetUserPolicy(ctx context.Context, user, name string) (string, error) {
	u, err := s.GetUser(ctx, user)
	if err != nil {
		return "", err
	}
	doc, ok := u.InlinePolicies[name]
	if !ok {
		return "", errf(ErrNotFound, "The user policy with name %s cannot be found.", name)
	}
	return doc, nil
}

// DeleteUserPolicy deletes an inline policy of a user.
func (s *Store) DeleteUserPolicy(ctx context.Context, user, name string) error {
	err := update(ctx, s.st, nsUsers, user, false, func(u *User) (*User, error) {
		if _, ok := u.InlinePolicies[name]; !ok {
			return nil, errf(ErrNotFound, "The user policy with name %s cannot be found.", name)
		}
		delete(u.InlinePolicies, name)
		return u, nil
	})
	s.invalidate()
	return err
}

// ListUserPolicies returns the inline policy names of a user, sorted.
func (s *Store) ListUserPolicies(ctx context.Context, user string) ([]string, error) {
	u, err := s.GetUser(ctx, user)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(u.InlinePolicies)), nil
}

// PutRolePolicy creates or replaces an inline policy of a role.
func (s *Store) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	if err := validName("policy", name); err != nil {
		return err
	}
	if err := checkPolicy(doc, iam.MaxRoleInlinePolicySize); err != nil {
		return err
	}
	err := update(ctx, s.st, nsRoles, role, false, func(r *Role) (*Role, error) {
		if r.InlinePolicies == nil {
			r.InlinePolicies = map[string]string{}
		}
		r.InlinePolicies[name] = doc
		return r, nil
	})
	s.invalidate()
	return err
}

// GetRolePolicy returns an inline policy document of a role.
func (s *Store) GetRolePolicy(ctx context.Context, role, name string) (string, error) {
	r, err := s.GetRole(ctx, role)
	if err != nil {
		return "", err
	}
	doc, ok := r.InlinePolicies[name]
	if !ok {
		return "", errf(ErrNotFound, "The role policy with name %s cannot be found.", name)
	}
	return doc, nil
}

// DeleteRolePolicy deletes an inline policy of a role.
func (s *Store) DeleteRolePolicy(ctx context.Context, role, name string) error {
	err := update(ctx, s.st, nsRoles, role, false, func(r *Role) (*Role, error) {
		if _, ok := r.InlinePolicies[name]; !ok {
			return nil, errf(ErrNotFound, "The role policy with name %s cannot be found.", name)
		}
		delete(r.InlinePolicies, name)
		return r, nil
	})
	s.invalidate()
	return err
}
