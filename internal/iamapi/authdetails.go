package iamapi

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/identity"
)

// GetAccountAuthorizationDetails answers every user, group, role and
// managed policy of the account with their policies, as AWS does: policy
// documents URL-encoded, customer managed policies always and
// AWS-managed ones only when attached somewhere, paginated across all
// four lists (in that order) with Marker and MaxItems.

type inlinePolicyXML struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type userDetailXML struct {
	Path                    string                     `xml:"Path"`
	UserName                string                     `xml:"UserName"`
	UserID                  string                     `xml:"UserId"`
	ARN                     string                     `xml:"Arn"`
	CreateDate              *isoTime                   `xml:"CreateDate"`
	UserPolicyList          members[inlinePolicyXML]   `xml:"UserPolicyList"`
	GroupList               members[string]            `xml:"GroupList"`
	AttachedManagedPolicies members[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
	Tags                    *members[tagXML]           `xml:"Tags,omitempty"`
}

type groupDetailXML struct {
	Path                    string                     `xml:"Path"`
	GroupName               string                     `xml:"GroupName"`
	GroupID                 string                     `xml:"GroupId"`
	ARN                     string                     `xml:"Arn"`
	CreateDate              *isoTime                   `xml:"CreateDate"`
	GroupPolicyList         members[inlinePolicyXML]   `xml:"GroupPolicyList"`
	AttachedManagedPolicies members[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
}

type roleDetailXML struct {
	Path                     string                     `xml:"Path"`
	RoleName                 string                     `xml:"RoleName"`
	RoleID                   string                     `xml:"RoleId"`
	ARN                      string                     `xml:"Arn"`
	CreateDate               *isoTime                   `xml:"CreateDate"`
	AssumeRolePolicyDocument string                     `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      members[string]            `xml:"InstanceProfileList"`
	RolePolicyList           members[inlinePolicyXML]   `xml:"RolePolicyList"`
	AttachedManagedPolicies  members[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
	Tags                     *members[tagXML]           `xml:"Tags,omitempty"`
	RoleLastUsed             roleLastUsedXML            `xml:"RoleLastUsed"`
}

type policyDetailXML struct {
	policyXML
	PolicyVersionList members[policyVersionXML] `xml:"PolicyVersionList"`
}

type authDetailsResult struct {
	UserDetailList  members[userDetailXML]   `xml:"UserDetailList"`
	GroupDetailList members[groupDetailXML]  `xml:"GroupDetailList"`
	RoleDetailList  members[roleDetailXML]   `xml:"RoleDetailList"`
	Policies        members[policyDetailXML] `xml:"Policies"`
	page
}

// detailItem is one entry of the combined, ordered list that pages run
// over; key orders users, groups, roles, then policies, each by name.
type detailItem struct {
	key    string
	user   *identity.User
	group  *identity.Group
	role   *identity.Role
	policy *identity.ManagedPolicy
}

// authDetailFilters are the EntityType values of Filter.
var authDetailFilters = []string{"User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"}

func (a *API) getAccountAuthorizationDetails(ctx context.Context, f *form) (any, error) {
	filter := f.list("Filter")
	for i, v := range filter {
		if !slices.Contains(authDetailFilters, v) {
			f.fail("Value '%s' at 'filter.%d.member' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
				short(v), i+1, strings.Join(authDetailFilters, ", "))
		}
	}
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, "GetAccountAuthorizationDetails", "*"); err != nil {
		return nil, err
	}
	want := func(kind string) bool { return len(filter) == 0 || slices.Contains(filter, kind) }
	items, err := a.detailItems(ctx, want)
	if err != nil {
		return nil, err
	}
	got, pg, err := paginate(items, func(it detailItem) string { return it.key }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &authDetailsResult{page: pg, UserDetailList: list([]userDetailXML{}), GroupDetailList: list([]groupDetailXML{}),
		RoleDetailList: list([]roleDetailXML{}), Policies: list([]policyDetailXML{})}
	for _, it := range got {
		switch {
		case it.user != nil:
			out.UserDetailList.Member = append(out.UserDetailList.Member, userDetail(it.user))
		case it.group != nil:
			out.GroupDetailList.Member = append(out.GroupDetailList.Member, groupDetail(it.group))
		case it.role != nil:
			out.RoleDetailList.Member = append(out.RoleDetailList.Member, roleDetail(it.role))
		default:
			out.Policies.Member = append(out.Policies.Member, policyDetail(it.policy))
		}
	}
	return out, nil
}

// detailItems loads the entities want selects, ordered by key.
func (a *API) detailItems(ctx context.Context, want func(string) bool) ([]detailItem, error) {
	var items []detailItem
	if want("User") {
		users, err := a.b.ListUsers(ctx, "/")
		if err != nil {
			return nil, backendErr(err, entity{})
		}
		for _, u := range users {
			items = append(items, detailItem{key: "1" + u.UserName, user: u})
		}
	}
	if want("Group") {
		groups, err := a.b.ListGroups(ctx, "/")
		if err != nil {
			return nil, backendErr(err, entity{})
		}
		for _, g := range groups {
			items = append(items, detailItem{key: "2" + g.GroupName, group: g})
		}
	}
	if want("Role") {
		roles, err := a.b.ListRoles(ctx)
		if err != nil {
			return nil, backendErr(err, entity{})
		}
		for _, r := range roles {
			items = append(items, detailItem{key: "3" + r.RoleName, role: r})
		}
	}
	pols, err := a.detailPolicies(ctx, want("LocalManagedPolicy"), want("AWSManagedPolicy"))
	if err != nil {
		return nil, err
	}
	for _, p := range pols {
		items = append(items, detailItem{key: "4" + p.ARN, policy: p})
	}
	slices.SortFunc(items, func(x, y detailItem) int { return strings.Compare(x.key, y.key) })
	return items, nil
}

// detailPolicies returns the customer managed policies (local) and the
// AWS-managed policies attached somewhere (aws).
func (a *API) detailPolicies(ctx context.Context, local, aws bool) ([]*identity.ManagedPolicy, error) {
	var out []*identity.ManagedPolicy
	if local {
		all, err := a.b.ListPolicies(ctx)
		if err != nil {
			return nil, backendErr(err, entity{})
		}
		out = append(out, all...)
	}
	if aws {
		for _, p := range identity.AWSManagedPolicies() {
			mp, err := a.b.GetPolicy(ctx, p.ARN) // with its attachment count
			if err != nil {
				return nil, backendErr(err, entity{})
			}
			if mp.AttachmentCount > 0 {
				out = append(out, mp)
			}
		}
	}
	return out, nil
}

// inlineList renders inline policies sorted by name.
func inlineList(ps map[string]string) members[inlinePolicyXML] {
	out := make([]inlinePolicyXML, 0, len(ps))
	for _, n := range slices.Sorted(maps.Keys(ps)) {
		out = append(out, inlinePolicyXML{PolicyName: n, PolicyDocument: encodeDoc(ps[n])})
	}
	return list(out)
}

// attachedList renders attached policy ARNs with their names.
func attachedList(arns []string) members[attachedPolicyXML] {
	out := make([]attachedPolicyXML, 0, len(arns))
	for _, arn := range arns {
		_, name := splitPolicyARN(arn)
		out = append(out, attachedPolicyXML{PolicyName: name, PolicyArn: arn})
	}
	return list(out)
}

func userDetail(u *identity.User) userDetailXML {
	groups := slices.Sorted(slices.Values(u.Groups))
	if groups == nil {
		groups = []string{}
	}
	return userDetailXML{Path: u.Path, UserName: u.UserName, UserID: u.UserID, ARN: u.ARN, CreateDate: optTime(u.CreateDate),
		UserPolicyList: inlineList(u.InlinePolicies), GroupList: list(groups), AttachedManagedPolicies: attachedList(u.AttachedPolicies),
		Tags: toTags(u.Tags)}
}

func groupDetail(g *identity.Group) groupDetailXML {
	return groupDetailXML{Path: g.Path, GroupName: g.GroupName, GroupID: g.GroupID, ARN: g.ARN, CreateDate: optTime(g.CreateDate),
		GroupPolicyList: inlineList(g.InlinePolicies), AttachedManagedPolicies: attachedList(g.AttachedPolicies)}
}

func roleDetail(r *identity.Role) roleDetailXML {
	return roleDetailXML{Path: r.Path, RoleName: r.RoleName, RoleID: r.RoleID, ARN: r.ARN, CreateDate: optTime(r.CreateDate),
		AssumeRolePolicyDocument: encodeDoc(r.TrustPolicy), InstanceProfileList: list([]string{}),
		RolePolicyList: inlineList(r.InlinePolicies), AttachedManagedPolicies: attachedList(r.AttachedPolicies), Tags: toTags(r.Tags),
		RoleLastUsed: roleLastUsedXML{LastUsedDate: optTime(r.LastUsed), Region: r.LastUsedRegion}}
}

func policyDetail(p *identity.ManagedPolicy) policyDetailXML {
	out := policyDetailXML{policyXML: toPolicy(p), PolicyVersionList: list(make([]policyVersionXML, 0, len(p.Versions)))}
	out.Tags, out.Description = nil, ""
	for i := range p.Versions {
		out.PolicyVersionList.Member = append(out.PolicyVersionList.Member, toPolicyVersion(&p.Versions[i], true))
	}
	return out
}
