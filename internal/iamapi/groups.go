package iamapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/identity"
)

// GroupBackend manages groups, their members and their policies;
// *identity.Store implements it. A group's policies apply to its members.
type GroupBackend interface {
	// CreateGroup creates a group; path "" means "/".
	CreateGroup(ctx context.Context, name, path string) (*identity.Group, error)
	GetGroup(ctx context.Context, name string) (*identity.Group, error)
	// ListGroups returns the groups whose path starts with pathPrefix, in
	// any order.
	ListGroups(ctx context.Context, pathPrefix string) ([]*identity.Group, error)
	// GroupMembers returns the users in a group, in any order.
	GroupMembers(ctx context.Context, name string) ([]*identity.User, error)
	// DeleteGroup deletes a group without members and policies (else
	// ErrDeleteConflict).
	DeleteGroup(ctx context.Context, name string) error
	AddUserToGroup(ctx context.Context, group, user string) error
	// RemoveUserFromGroup fails with ErrNotFound when user is no member.
	RemoveUserFromGroup(ctx context.Context, group, user string) error
	// ListGroupsForUser returns the groups of a user, in any order.
	ListGroupsForUser(ctx context.Context, user string) ([]*identity.Group, error)

	PutGroupPolicy(ctx context.Context, group, name, doc string) error
	GetGroupPolicy(ctx context.Context, group, name string) (string, error)
	DeleteGroupPolicy(ctx context.Context, group, name string) error
	ListGroupPolicies(ctx context.Context, group string) ([]string, error)
	AttachGroupPolicy(ctx context.Context, group, policyARN string) error
	DetachGroupPolicy(ctx context.Context, group, policyARN string) error
}

type groupXML struct {
	Path       string   `xml:"Path"`
	GroupName  string   `xml:"GroupName"`
	GroupID    string   `xml:"GroupId"`
	ARN        string   `xml:"Arn"`
	CreateDate *isoTime `xml:"CreateDate"`
}

func toGroup(g *identity.Group) groupXML {
	return groupXML{Path: g.Path, GroupName: g.GroupName, GroupID: g.GroupID, ARN: g.ARN, CreateDate: optTime(g.CreateDate)}
}

type groupResult struct {
	Group groupXML `xml:"Group"`
}

type getGroupResult struct {
	Group groupXML         `xml:"Group"`
	Users members[userXML] `xml:"Users"`
	page
}

type listGroupsResult struct {
	Groups members[groupXML] `xml:"Groups"`
	page
}

// registerGroups adds the group actions other than the policy ones
// (holderAPI) to ops.
func (a *API) registerGroups(ops map[string]opFunc) {
	ops["CreateGroup"], ops["GetGroup"], ops["ListGroups"], ops["DeleteGroup"] = a.createGroup, a.getGroup, a.listGroups, a.deleteGroup
	ops["AddUserToGroup"] = func(ctx context.Context, f *form) (any, error) {
		return a.membership(ctx, f, "AddUserToGroup", a.b.AddUserToGroup)
	}
	ops["RemoveUserFromGroup"] = func(ctx context.Context, f *form) (any, error) {
		return a.membership(ctx, f, "RemoveUserFromGroup", a.b.RemoveUserFromGroup)
	}
	ops["ListGroupsForUser"] = a.listGroupsForUser
}

// groupNameParam reads a required GroupName (groupNameType: 1..128).
func groupNameParam(f *form) string {
	name := f.required("GroupName")
	f.check("GroupName", name, 1, 128, reName)
	return name
}

func groupName(g *identity.Group) string { return g.GroupName }

// resolveGroup loads a group and authorizes action on its ARN, like
// resolveUser.
func (a *API) resolveGroup(ctx context.Context, action, name string) (*identity.Group, error) {
	return resolve(ctx, a, action, "group", name, a.b.GetGroup, func(g *identity.Group) (string, identity.Tags) { return g.ARN, nil }, nil)
}

func (a *API) createGroup(ctx context.Context, f *form) (any, error) {
	name := groupNameParam(f)
	path := f.str("Path")
	f.check("Path", path, 1, 512, rePath)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, "CreateGroup", a.arn("group", path, name)); err != nil {
		return nil, err
	}
	g, err := a.b.CreateGroup(ctx, name, path)
	if err != nil {
		return nil, backendErr(err, entity{"group", name})
	}
	return &groupResult{Group: toGroup(g)}, nil
}

// getGroup answers the group and a page of its members, sorted by name.
func (a *API) getGroup(ctx context.Context, f *form) (any, error) {
	name := groupNameParam(f)
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	g, err := a.resolveGroup(ctx, "GetGroup", name)
	if err != nil {
		return nil, err
	}
	users, err := a.b.GroupMembers(ctx, name)
	if err != nil {
		return nil, backendErr(err, entity{"group", name})
	}
	members, pg, err := sortedPage(users, func(u *identity.User) string { return u.UserName }, toUser, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &getGroupResult{Group: toGroup(g), Users: members, page: pg}, nil
}

func (a *API) listGroups(ctx context.Context, f *form) (any, error) {
	groups, pg, err := listByPath(ctx, a, f, "ListGroups", "group", a.b.ListGroups, groupName, toGroup)
	if err != nil {
		return nil, err
	}
	return &listGroupsResult{Groups: groups, page: pg}, nil
}

// groupPage sorts groups by name and answers one page of them.
func groupPage(groups []*identity.Group, marker string, maxItems int) (*listGroupsResult, error) {
	out, pg, err := sortedPage(groups, groupName, toGroup, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &listGroupsResult{Groups: out, page: pg}, nil
}

func (a *API) deleteGroup(ctx context.Context, f *form) (any, error) {
	name := groupNameParam(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveGroup(ctx, "DeleteGroup", name); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.DeleteGroup(ctx, name), entity{"group", name})
}

// membership runs AddUserToGroup / RemoveUserFromGroup: authorized on the
// group, as on AWS.
func (a *API) membership(ctx context.Context, f *form, action string, fn func(ctx context.Context, group, user string) error) (any, error) {
	group := groupNameParam(f)
	user := userName(f, "UserName")
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveGroup(ctx, action, group); err != nil {
		return nil, err
	}
	return nil, backendErr(fn(ctx, group, user), entity{"user", user})
}

func (a *API) listGroupsForUser(ctx context.Context, f *form) (any, error) {
	user := userName(f, "UserName")
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "ListGroupsForUser", user, nil); err != nil {
		return nil, err
	}
	groups, err := a.b.ListGroupsForUser(ctx, user)
	if err != nil {
		return nil, backendErr(err, entity{"user", user})
	}
	return groupPage(groups, marker, maxItems)
}
