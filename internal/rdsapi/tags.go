package rdsapi

import (
	"context"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/arn"
)

// resourceTagKeys returns aws:ResourceTag/* of a resource's tags.
func resourceTagKeys(tags []Tag) map[string][]string {
	if len(tags) == 0 {
		return nil
	}
	out := map[string][]string{}
	for _, t := range tags {
		out["aws:resourcetag/"+strings.ToLower(t.Key)] = []string{t.Value}
	}
	return out
}

// requestTagKeys adds aws:RequestTag/* and aws:TagKeys of tags to k.
func requestTagKeys(k map[string][]string, tags []Tag) map[string][]string {
	if len(tags) == 0 {
		return k
	}
	if k == nil {
		k = map[string][]string{}
	}
	var names []string
	for _, t := range tags {
		k["aws:requesttag/"+strings.ToLower(t.Key)] = []string{t.Value}
		names = append(names, t.Key)
	}
	k["aws:tagkeys"] = names
	return k
}

// mergeTags sets tags on list: an existing key gets the new value.
func mergeTags(list, tags []Tag) []Tag {
	for _, t := range tags {
		i := slices.IndexFunc(list, func(x Tag) bool { return x.Key == t.Key })
		if i >= 0 {
			list[i] = t
		} else {
			list = append(list, t)
		}
	}
	return list
}

// taggable checks that res names a cluster, proxy or proxy endpoint that
// exists and returns the error AWS gives otherwise.
func (a *API) taggable(ctx context.Context, res string) error {
	p, err := arn.Parse(res)
	if err != nil || p.Service != "rds" || p.Region != a.cfg.Region || p.Account != a.cfg.Account {
		return errInvalid("The parameter ResourceName is not a valid RDS ARN: " + short(res))
	}
	kind, id, _ := strings.Cut(p.Resource, ":")
	switch kind {
	case "cluster":
		if _, ok := a.findCluster(id); !ok {
			return errClusterNotFound(id)
		}
		return nil
	case "db-proxy":
		if _, err := a.proxyByID(ctx, id); err != nil {
			return err
		}
		return nil
	case "db-proxy-endpoint":
		if _, _, err := a.endpointByID(ctx, id); err != nil {
			return err
		}
		return nil
	}
	return errInvalid("Tags are supported on DB clusters, DB proxies and DB proxy endpoints here, not on " + short(res) + ".")
}

type listTagsResult struct {
	TagList *tagList `xml:"TagList"`
}

func (a *API) listTags(ctx context.Context, f *form) (any, error) {
	res := f.required("ResourceName")
	if f.err != nil {
		return nil, f.err
	}
	tags, err := a.authorizeTagged(ctx, "ListTagsForResource", res, nil)
	if err != nil {
		return nil, err
	}
	return &listTagsResult{TagList: toTagList(tags)}, nil
}

func (a *API) addTags(ctx context.Context, f *form) (any, error) {
	res := f.required("ResourceName")
	add := f.tags()
	if f.err == nil && len(add) == 0 {
		f.fail(errMissing("Tags"))
	}
	if f.err != nil {
		return nil, f.err
	}
	_, err := a.authorizeTagged(ctx, "AddTagsToResource", res, func(k map[string][]string) map[string][]string {
		return requestTagKeys(k, add)
	})
	if err != nil {
		return nil, err
	}
	err = a.store.UpdateTags(ctx, func(m map[string][]Tag) error {
		merged := mergeTags(m[res], add)
		if len(merged) > 50 {
			return errQuota("TagQuotaPerResourceExceeded", "A resource can have at most 50 tags.")
		}
		m[res] = merged
		return nil
	})
	return nil, err
}

func (a *API) removeTags(ctx context.Context, f *form) (any, error) {
	res := f.required("ResourceName")
	keys := f.list("TagKeys.member")
	if f.err == nil && len(keys) == 0 {
		f.fail(errMissing("TagKeys"))
	}
	if f.err != nil {
		return nil, f.err
	}
	_, err := a.authorizeTagged(ctx, "RemoveTagsFromResource", res, func(k map[string][]string) map[string][]string {
		if k == nil {
			k = map[string][]string{}
		}
		k["aws:tagkeys"] = keys
		return k
	})
	if err != nil {
		return nil, err
	}
	err = a.store.UpdateTags(ctx, func(m map[string][]Tag) error {
		kept := slices.DeleteFunc(m[res], func(t Tag) bool { return slices.Contains(keys, t.Key) })
		if len(kept) == 0 {
			delete(m, res)
		} else {
			m[res] = kept
		}
		return nil
	})
	return nil, err
}

// authorizeTagged is the common start of the tag actions: res must be a
// taggable resource, then authorizeOn.
func (a *API) authorizeTagged(ctx context.Context, action, res string,
	extra func(map[string][]string) map[string][]string) ([]Tag, error) {
	if err := a.taggable(ctx, res); err != nil {
		return nil, err
	}
	return a.authorizeOn(ctx, action, res, extra)
}

// authorizeOn authorizes action on res with res's current tags
// (aws:ResourceTag/*) in the request context, plus what extra adds when
// set, and returns those tags. Tags that cannot be read fail the call: a
// Deny conditioned on a tag must not be skipped.
func (a *API) authorizeOn(ctx context.Context, action, res string,
	extra func(map[string][]string) map[string][]string) ([]Tag, error) {
	all, err := a.store.Tags(ctx)
	if err != nil {
		return nil, err
	}
	k := resourceTagKeys(all[res])
	if extra != nil {
		k = extra(k)
	}
	if err := a.authorize(ctx, action, res, k); err != nil {
		return nil, err
	}
	return all[res], nil
}
