package iam

import "context"

type conditionKeysKey struct{}

// WithConditionKeys returns ctx carrying extra condition keys for the
// authorization of one action (lower-case names, e.g.
// "secretsmanager:resourcetag/team"), added by the API that knows them.
func WithConditionKeys(ctx context.Context, keys map[string][]string) context.Context {
	return context.WithValue(ctx, conditionKeysKey{}, keys)
}

// ConditionKeysFrom returns the keys stored by WithConditionKeys.
func ConditionKeysFrom(ctx context.Context) map[string][]string {
	k, _ := ctx.Value(conditionKeysKey{}).(map[string][]string)
	return k
}
