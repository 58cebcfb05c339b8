package iam

import "context"

type conditionKeysKey struct{}

// WithConditionKeys returns ctx carrying extra condition keys for the
// authorization of one action (lower-case names, e.g.
// "secretsmanager:resourcetag/team"), added by the API that knows them.
func WithConditionKeys(ctx context.Context, keys map[string][]string) context.Context {
	return context.WithValue(ctx, conditionKeysKey{}, keys)
}

// WithConditionKeysFunc is WithConditionKeys with the keys built by fn
// only if the authorization reads the request context (a policy with a
// condition or a policy variable): for calls made on every request whose
// policies are mostly condition-free.
func WithConditionKeysFunc(ctx context.Context, fn func() map[string][]string) context.Context {
	return context.WithValue(ctx, conditionKeysKey{}, fn)
}

// ConditionKeysFrom returns the keys stored by WithConditionKeys or
// WithConditionKeysFunc.
func ConditionKeysFrom(ctx context.Context) map[string][]string {
	switch k := ctx.Value(conditionKeysKey{}).(type) {
	case map[string][]string:
		return k
	case func() map[string][]string:
		return k()
	}
	return nil
}
