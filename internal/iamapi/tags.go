package iamapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/identity"
)

type listTagsResult struct {
	Tags members[tagXML] `xml:"Tags"`
	page
}

// tagKeys reads TagKeys.member.N (1..50 keys).
func tagKeys(f *form) []string {
	ks := f.list("TagKeys")
	if len(ks) == 0 {
		f.fail("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	for _, k := range ks {
		f.check("TagKeys.member", k, 1, 128, nil)
	}
	return ks
}

// tagKeysKey is aws:TagKeys of an Untag request.
func tagKeysKey(ks []string) keys { return keys{"aws:tagkeys": ks} }

// requiredTags reads Tags of a Tag* request (at least one).
func requiredTags(f *form) identity.Tags {
	tags := readTags(f)
	if len(tags) == 0 {
		f.fail("Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	return tags
}

func (a *API) tagUser(ctx context.Context, f *form) (any, error) {
	name := userName(f, "UserName")
	tags := requiredTags(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "TagUser", name, requestTagKeys(tags)); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.TagUser(ctx, name, tags), entity{"user", name})
}

func (a *API) untagUser(ctx context.Context, f *form) (any, error) {
	name := userName(f, "UserName")
	ks := tagKeys(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "UntagUser", name, tagKeysKey(ks)); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.UntagUser(ctx, name, ks), entity{"user", name})
}

func (a *API) listUserTags(ctx context.Context, f *form) (any, error) {
	name := userName(f, "UserName")
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	u, err := a.resolveUser(ctx, "ListUserTags", name, nil)
	if err != nil {
		return nil, err
	}
	return tagPage(u.Tags, marker, maxItems)
}

func (a *API) tagRole(ctx context.Context, f *form) (any, error) {
	name := roleName(f)
	tags := requiredTags(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, "TagRole", name, requestTagKeys(tags)); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.TagRole(ctx, name, tags), entity{"role", name})
}

func (a *API) untagRole(ctx context.Context, f *form) (any, error) {
	name := roleName(f)
	ks := tagKeys(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveRole(ctx, "UntagRole", name, tagKeysKey(ks)); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.UntagRole(ctx, name, ks), entity{"role", name})
}

func (a *API) listRoleTags(ctx context.Context, f *form) (any, error) {
	name := roleName(f)
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	r, err := a.resolveRole(ctx, "ListRoleTags", name, nil)
	if err != nil {
		return nil, err
	}
	return tagPage(r.Tags, marker, maxItems)
}

func (a *API) tagPolicy(ctx context.Context, f *form) (any, error) {
	arn := policyARNParam(f)
	tags := requiredTags(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolvePolicy(ctx, "TagPolicy", arn, requestTagKeys(tags)); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.TagPolicy(ctx, arn, tags), entity{"policy", arn})
}

func (a *API) untagPolicy(ctx context.Context, f *form) (any, error) {
	arn := policyARNParam(f)
	ks := tagKeys(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolvePolicy(ctx, "UntagPolicy", arn, tagKeysKey(ks)); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.UntagPolicy(ctx, arn, ks), entity{"policy", arn})
}

func (a *API) listPolicyTags(ctx context.Context, f *form) (any, error) {
	arn := policyARNParam(f)
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	p, err := a.resolvePolicy(ctx, "ListPolicyTags", arn, nil)
	if err != nil {
		return nil, err
	}
	return tagPage(p.Tags, marker, maxItems)
}

// tagPage pages tags in their stored order.
func tagPage(tags identity.Tags, marker string, maxItems int) (any, error) {
	items := make([]tagXML, 0, len(tags))
	for _, t := range tags {
		items = append(items, tagXML(t))
	}
	got, pg, err := paginate(items, func(t tagXML) string { return t.Key }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return &listTagsResult{Tags: list(got), page: pg}, nil
}
