package iamapi

import (
	"context"
	"strings"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// keys are condition keys by lower-case name.
type keys = map[string][]string

// The IAM request context: every action is authorized with the global keys
// (added by the authorizer) and the service keys built here — the tags of
// the user, role or policy acted on (aws:ResourceTag/*, iam:ResourceTag/*),
// the tags of the request (aws:RequestTag/*, aws:TagKeys) and the
// action's own keys (iam:PolicyARN). iam.Actions lists them per action.

// resourceKeys returns the resource-tag keys of an entity with tags,
// plus extra.
func resourceKeys(tags identity.Tags, extra keys) keys {
	out := make(keys, 2*len(tags)+len(extra))
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		out["aws:resourcetag/"+k] = []string{t.Value}
		out["iam:resourcetag/"+k] = []string{t.Value}
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// requestTagKeys returns aws:RequestTag/* and aws:TagKeys of tags.
func requestTagKeys(tags identity.Tags) keys {
	if len(tags) == 0 {
		return nil
	}
	out := keys{}
	var names []string
	for _, t := range tags {
		out["aws:requesttag/"+strings.ToLower(t.Key)] = []string{t.Value}
		names = append(names, t.Key)
	}
	out["aws:tagkeys"] = names
	return out
}

// authorizeWith checks iam:<action> on resource with service keys k.
func (a *API) authorizeWith(ctx context.Context, action, resource string, k keys) error {
	if len(k) > 0 {
		ctx = iam.WithConditionKeys(ctx, k)
	}
	return a.authorize(ctx, action, resource)
}
