package secretsapi

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

// keys are condition keys by lower-case name.
type keys = map[string][]string

// The Secrets Manager request context: every operation is authorized with
// the global keys (added by the authorizer) and the service keys built
// here — for an operation on a secret its ARN (secretsmanager:SecretId),
// tags (secretsmanager:ResourceTag/*, aws:ResourceTag/*) and region
// (secretsmanager:SecretPrimaryRegion), plus the operation's parameters
// (VersionId, VersionStage, ForceDeleteWithoutRecovery, …). iam.Actions
// lists them per operation.

// secretKeys returns the keys of an operation on the secret arn with
// tags, plus extra.
func (a *API) secretKeys(arn string, tags []secrets.Tag, extra keys) keys {
	k := make(keys, 4+2*len(tags)+len(extra))
	k["secretsmanager:secretid"] = []string{arn}
	k["secretsmanager:secretprimaryregion"] = []string{a.store.Region()}
	for _, t := range tags {
		tk := strings.ToLower(t.Key)
		k["secretsmanager:resourcetag/"+tk] = []string{t.Value}
		k["aws:resourcetag/"+tk] = []string{t.Value}
	}
	for n, v := range extra {
		k[n] = v
	}
	return k
}

// put adds key name = *v to k when v is set.
func put[T string | bool | int64](k keys, name string, v *T) {
	if v == nil {
		return
	}
	switch x := any(*v).(type) {
	case string:
		k[name] = []string{x}
	case bool:
		k[name] = []string{strconv.FormatBool(x)}
	case int64:
		k[name] = []string{strconv.FormatInt(x, 10)}
	}
}

// tagKeys returns aws:RequestTag/* and aws:TagKeys of request tags.
func tagKeys(k keys, tags []secrets.Tag) {
	if len(tags) == 0 {
		return
	}
	var names []string
	for _, t := range tags {
		k["aws:requesttag/"+strings.ToLower(t.Key)] = []string{t.Value}
		names = append(names, t.Key)
	}
	k["aws:tagkeys"] = names
}

// authorizeWith checks secretsmanager:<op> on resource with keys k.
func (a *API) authorizeWith(ctx context.Context, op, resource string, k keys) error {
	if len(k) > 0 {
		ctx = iam.WithConditionKeys(ctx, k)
	}
	return a.authorize(ctx, op, resource)
}

// resolveBody decodes a request whose only member is SecretId, validates
// it and resolves the secret for op (see resolve).
func (a *API) resolveBody(ctx context.Context, op string, body []byte) (*secrets.Secret, error) {
	var in secretIDInput
	if err := decodeWithID(body, &in, &in.SecretID); err != nil {
		return nil, err
	}
	return a.resolve(ctx, op, *in.SecretID, nil)
}

// decodeWithID decodes body into in and validates its SecretId member,
// *id, for requests with no other member to check.
func decodeWithID(body []byte, in any, id **string) error {
	if err := decode(body, in); err != nil {
		return err
	}
	var v validation
	v.secretID(*id)
	return v.err()
}

// resolve finds the secret named by id (also when scheduled for deletion)
// without side effects and authorizes op on it with the operation's keys.
// It returns the secret so that the operation acts on exactly the secret
// that was authorized. For a missing secret it authorizes against the ARN
// the id implies first, so a denied caller gets the same AccessDenied
// whether the secret exists or not.
func (a *API) resolve(ctx context.Context, op, id string, extra keys) (*secrets.Secret, error) {
	s, err := a.store.Describe(ctx, id)
	if err != nil {
		return nil, a.denyMissing(ctx, op, id, extra, err)
	}
	if err := a.authorizeWith(a.withPolicy(ctx, s.Policy), op, s.ARN, a.secretKeys(s.ARN, s.Tags, extra)); err != nil {
		return nil, asRequested(err, id)
	}
	return s, nil
}

// denyMissing returns the error for a secret id that could not be loaded
// (err): for a missing secret the access denial of op on the ARN the id
// implies if the caller is not allowed that, else err.
func (a *API) denyMissing(ctx context.Context, op, id string, extra keys, err error) error {
	if !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	implied := a.impliedARN(id)
	k := keys{"secretsmanager:secretid": {implied}}
	for n, v := range extra {
		k[n] = v
	}
	if aerr := a.authorizeWith(ctx, op, implied, k); aerr != nil {
		return asRequested(aerr, id)
	}
	return err
}

// asRequested names the secret in an access denial as the request named
// it, so the message is the same whether the secret exists or not (and
// does not reveal the full ARN of one that does).
func asRequested(err error, id string) error {
	var denied *iam.AccessDeniedError
	if !errors.As(err, &denied) {
		return err
	}
	d := *denied
	d.Resource = id
	return &d
}

// CurrentValue returns the ARN and the SecretString to log in with (nil
// for a binary secret) of secret id: AWSCURRENT, or AWSPENDING while a
// rotation has already set it on the database (secrets.Store.LiveValue), for
// the caller in ctx, authorized exactly as GetSecretValue: the value is read
// from the same read of the record that was authorized (secrets.Store.Live),
// and the access recorded, only after the caller is allowed. Errors: secrets.ErrNotFound, an
// *iam.AccessDeniedError (also for a missing secret the caller may not
// read), secrets.ErrScheduledForDeletion, ….
func (a *API) CurrentValue(ctx context.Context, id string) (string, *string, error) {
	s, err := a.store.Live(ctx, id)
	if err != nil {
		return "", nil, a.denyMissing(ctx, "GetSecretValue", id, nil, err)
	}
	// The Data API asks on every call: the condition keys are built only
	// if a policy reads them.
	actx := iam.WithConditionKeysFunc(a.withPolicy(ctx, s.Policy), func() map[string][]string { return a.secretKeys(s.ARN, s.Tags, nil) })
	if err := a.authorize(actx, "GetSecretValue", s.ARN); err != nil {
		return "", nil, asRequested(err, id)
	}
	v, err := s.SecretString(ctx)
	if err != nil {
		return "", nil, err
	}
	return s.ARN, v, nil
}
