package identity

import (
	"context"
	"slices"
	"strings"
)

// CreateGroup creates an IAM group. Names are unique ignoring case, as on
// AWS (ErrExists).
func (s *Store) CreateGroup(ctx context.Context, name, path string) (*Group, error) {
	if err := validName("group", name); err != nil {
		return nil, err
	}
	path, err := normPath(path)
	if err != nil {
		return nil, err
	}
	g := &Group{GroupName: name, GroupID: randomID("AGPA", 17), ARN: s.arn("group", path, name), Path: path, CreateDate: s.clock()}
	if err := createNamed(ctx, s, nsGroups, name, g); err != nil {
		return nil, err
	}
	return g, nil
}

// GetGroup returns a group or ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, name string) (*Group, error) {
	return get[Group](ctx, s.st, nsGroups, name)
}

// ListGroups returns the groups whose path starts with pathPrefix ("" = all).
func (s *Store) ListGroups(ctx context.Context, pathPrefix string) ([]*Group, error) {
	all, err := list[Group](ctx, s.st, nsGroups)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(g *Group) bool { return !strings.HasPrefix(g.Path, pathPrefix) }), nil
}

// GroupMembers returns the users in group name (ErrNotFound when the
// group does not exist).
func (s *Store) GroupMembers(ctx context.Context, name string) ([]*User, error) {
	if _, err := s.GetGroup(ctx, name); err != nil {
		return nil, err
	}
	users, err := list[User](ctx, s.st, nsUsers)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(users, func(u *User) bool { return !slices.Contains(u.Groups, name) }), nil
}

// DeleteGroup deletes a group. Like AWS it refuses (ErrDeleteConflict)
// while the group has members or policies.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	members, err := s.GroupMembers(ctx, name)
	if err != nil {
		return err
	}
	if len(members) > 0 {
		return errf(ErrDeleteConflict, "Cannot delete entity, must remove users from group first.")
	}
	err = update(ctx, s.st, nsGroups, name, false, func(g *Group) (*Group, error) {
		if !g.empty() {
			return nil, errf(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
		}
		return nil, nil
	})
	s.invalidate()
	return s.deleted(ctx, nsGroups, name, err)
}

// AddUserToGroup makes user a member of group (a no-op when it is one).
func (s *Store) AddUserToGroup(ctx context.Context, group, user string) error {
	if _, err := s.GetGroup(ctx, group); err != nil {
		return errf(ErrNotFound, "The group with name %s cannot be found.", group)
	}
	err := update(ctx, s.st, nsUsers, user, false, func(u *User) (*User, error) {
		if !slices.Contains(u.Groups, group) {
			u.Groups = append(u.Groups, group)
		}
		return u, nil
	})
	s.invalidate()
	return userErr(err, user)
}

// RemoveUserFromGroup ends user's membership of group (ErrNotFound when
// it is not a member).
func (s *Store) RemoveUserFromGroup(ctx context.Context, group, user string) error {
	if _, err := s.GetGroup(ctx, group); err != nil {
		return errf(ErrNotFound, "The group with name %s cannot be found.", group)
	}
	err := update(ctx, s.st, nsUsers, user, false, func(u *User) (*User, error) {
		i := slices.Index(u.Groups, group)
		if i < 0 {
			return nil, errf(ErrNotFound, "The user with name %s cannot be found in group %s.", user, group)
		}
		u.Groups = slices.Delete(u.Groups, i, i+1)
		return u, nil
	})
	s.invalidate()
	return userErr(err, user)
}

// userErr gives a bare ErrNotFound for user AWS's message.
func userErr(err error, user string) error {
	if err == ErrNotFound {
		return errf(ErrNotFound, "The user with name %s cannot be found.", user)
	}
	return err
}

// ListGroupsForUser returns the groups user is a member of.
func (s *Store) ListGroupsForUser(ctx context.Context, user string) ([]*Group, error) {
	u, err := s.GetUser(ctx, user)
	if err != nil {
		return nil, err
	}
	return s.groupsOf(ctx, u)
}

// groupsOf loads the groups of u, skipping any deleted since.
func (s *Store) groupsOf(ctx context.Context, u *User) ([]*Group, error) {
	var out []*Group
	for _, name := range u.Groups {
		g, err := s.GetGroup(ctx, name)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// PutGroupPolicy creates or replaces an inline policy of a group.
func (s *Store) PutGroupPolicy(ctx context.Context, group, name, doc string) error {
	return putInline[Group](ctx, s, groupKind, group, name, doc)
}

// GetGroupPolicy returns an inline policy document of a group.
func (s *Store) GetGroupPolicy(ctx context.Context, group, name string) (string, error) {
	return getInline[Group](ctx, s, groupKind, group, name)
}

// DeleteGroupPolicy deletes an inline policy of a group.
func (s *Store) DeleteGroupPolicy(ctx context.Context, group, name string) error {
	return deleteInline[Group](ctx, s, groupKind, group, name)
}

// ListGroupPolicies returns the inline policy names of a group, sorted.
func (s *Store) ListGroupPolicies(ctx context.Context, group string) ([]string, error) {
	return listInline[Group](ctx, s, groupKind, group)
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Store) AttachGroupPolicy(ctx context.Context, group, arn string) error {
	return attach[Group](ctx, s, groupKind, group, arn)
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Store) DetachGroupPolicy(ctx context.Context, group, arn string) error {
	return detach[Group](ctx, s, groupKind, group, arn)
}
