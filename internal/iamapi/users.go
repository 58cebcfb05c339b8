package iamapi

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sqlgate/sqlgate/internal/identity"
)

type userResult struct {
	User userXML `xml:"User"`
}

type listUsersResult struct {
	Users members[userXML] `xml:"Users"`
	page
}

type accessKeyResult struct {
	AccessKey accessKeyXML `xml:"AccessKey"`
}

type listAccessKeysResult struct {
	AccessKeyMetadata members[accessKeyXML] `xml:"AccessKeyMetadata"`
	page
}

// userName reads a required user name (existingUserNameType: 1..128).
func userName(f *form, param string) string {
	name := f.required(param)
	f.check(param, name, 1, 128, reName)
	return name
}

// optionalUser reads UserName, defaulting to the calling user, as AWS does
// for GetUser and the access key actions.
func optionalUser(ctx context.Context, f *form) (string, error) {
	if f.has("UserName") {
		return userName(f, "UserName"), nil
	}
	p, err := caller(ctx)
	if err != nil {
		return "", err
	}
	if p.UserName == "" {
		return "", errValidation("Must specify userName when calling with non-User credentials")
	}
	return p.UserName, nil
}

// resolveUser loads user name and authorizes action on its ARN. A caller
// not allowed on the user learns nothing of its existence: for a missing
// user the check runs on the ARN the user would have at path /.
func (a *API) resolveUser(ctx context.Context, action, name string, extra keys) (*identity.User, error) {
	return resolve(ctx, a, action, "user", name, a.b.GetUser, func(u *identity.User) (string, identity.Tags) { return u.ARN, u.Tags }, extra)
}

// resolve loads the entity kind/name with get and authorizes action on
// its ARN (or, when it does not exist, on the ARN it would have at path /),
// so a denied caller cannot probe which entities exist. The request
// context holds the entity's tags and extra.
func resolve[T any](ctx context.Context, a *API, action, kind, name string, get func(context.Context, string) (T, error),
	describe func(T) (string, identity.Tags), extra keys) (T, error) {
	v, err := get(ctx, name)
	arn := a.arn(kind, "/", name)
	if kind == "policy" {
		arn = name
	}
	var tags identity.Tags
	var zero T
	switch {
	case err == nil:
		arn, tags = describe(v)
	case !errors.Is(err, identity.ErrNotFound):
		return zero, backendErr(err, entity{kind, name})
	}
	if aerr := a.authorizeWith(ctx, action, arn, resourceKeys(tags, extra)); aerr != nil {
		return zero, aerr
	}
	if err != nil {
		return zero, backendErr(err, entity{kind, name})
	}
	return v, nil
}

func (a *API) createUser(ctx context.Context, f *form) (any, error) {
	name := f.required("UserName")
	f.check("UserName", name, 1, 64, reName)
	path := f.str("Path")
	f.check("Path", path, 1, 512, rePath)
	tags := readTags(f)
	noBoundary(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := a.authorizeWith(ctx, "CreateUser", a.arn("user", path, name), requestTagKeys(tags)); err != nil {
		return nil, err
	}
	u, err := a.b.CreateUser(ctx, name, path, tags...)
	if err != nil {
		return nil, backendErr(err, entity{"user", name})
	}
	return &userResult{User: toUser(u)}, nil
}

// readTags reads and validates Tags.member.N.{Key,Value}.
func readTags(f *form) identity.Tags {
	var tags identity.Tags
	for _, t := range f.structs("Tags") {
		key := t.required("Key")
		t.check("Key", key, 1, 128, nil)
		val := t.required("Value")
		t.check("Value", val, 0, 256, nil)
		f.errs = append(f.errs, t.errs...)
		tags = append(tags, identity.Tag{Key: key, Value: val})
	}
	if len(tags) > identity.MaxTags {
		f.fail("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", identity.MaxTags)
	}
	return tags
}

// noBoundary refuses PermissionsBoundary: sqlgate has no permissions
// boundaries, and ignoring one would grant more than was asked for.
func noBoundary(f *form) {
	if f.has("PermissionsBoundary") {
		f.fail("Permissions boundaries (PermissionsBoundary) are not supported.")
	}
}

func (a *API) getUser(ctx context.Context, f *form) (any, error) {
	if !f.has("UserName") {
		p, err := caller(ctx)
		if err != nil {
			return nil, err
		}
		if p.Root {
			// AWS answers for the root user without UserName and Path.
			if err := a.authorize(ctx, "GetUser", p.ARN); err != nil {
				return nil, err
			}
			return &userResult{User: userXML{UserID: a.account, ARN: p.ARN}}, nil
		}
	}
	name, err := optionalUser(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	u, err := a.resolveUser(ctx, "GetUser", name, nil)
	if err != nil {
		return nil, err
	}
	return &userResult{User: toUser(u)}, nil
}

func (a *API) listUsers(ctx context.Context, f *form) (any, error) {
	users, pg, err := listByPath(ctx, a, f, "ListUsers", "user", a.b.ListUsers, func(u *identity.User) string { return u.UserName }, toUser)
	if err != nil {
		return nil, err
	}
	return &listUsersResult{Users: users, page: pg}, nil
}

func (a *API) deleteUser(ctx context.Context, f *form) (any, error) {
	name := userName(f, "UserName")
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "DeleteUser", name, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.DeleteUser(ctx, name), entity{"user", name})
}

func (a *API) createAccessKey(ctx context.Context, f *form) (any, error) {
	name, err := optionalUser(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "CreateAccessKey", name, nil); err != nil {
		return nil, err
	}
	k, creds, err := a.b.CreateAccessKey(ctx, name)
	if err != nil {
		return nil, backendErr(err, entity{"user", name})
	}
	return &accessKeyResult{AccessKey: accessKeyXML{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status,
		SecretAccessKey: creds.SecretAccessKey, CreateDate: optTime(k.CreateDate)}}, nil
}

func (a *API) listAccessKeys(ctx context.Context, f *form) (any, error) {
	name, err := optionalUser(ctx, f)
	if err != nil {
		return nil, err
	}
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "ListAccessKeys", name, nil); err != nil {
		return nil, err
	}
	keys, err := a.b.ListAccessKeys(ctx, name)
	if err != nil {
		return nil, backendErr(err, entity{"user", name})
	}
	slices.SortFunc(keys, func(x, y *identity.AccessKey) int { return strings.Compare(x.AccessKeyID, y.AccessKeyID) })
	got, pg, err := paginate(keys, func(k *identity.AccessKey) string { return k.AccessKeyID }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &listAccessKeysResult{page: pg, AccessKeyMetadata: list(make([]accessKeyXML, 0, len(got)))}
	for _, k := range got {
		out.AccessKeyMetadata.Member = append(out.AccessKeyMetadata.Member,
			accessKeyXML{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, CreateDate: optTime(k.CreateDate)})
	}
	return out, nil
}

// accessKeyParams reads UserName (default: caller) and AccessKeyId.
func accessKeyParams(ctx context.Context, f *form) (user, akid string, err error) {
	user, err = optionalUser(ctx, f)
	if err != nil {
		return "", "", err
	}
	akid = f.required("AccessKeyId")
	f.check("AccessKeyId", akid, 16, 128, reAccessKeyID)
	return user, akid, nil
}

func (a *API) updateAccessKey(ctx context.Context, f *form) (any, error) {
	user, akid, err := accessKeyParams(ctx, f)
	if err != nil {
		return nil, err
	}
	f.required("Status")
	status := f.enum("Status", "Active", "Inactive", "Expired")
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "UpdateAccessKey", user, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.UpdateAccessKey(ctx, user, akid, status), entity{"key", akid})
}

func (a *API) deleteAccessKey(ctx context.Context, f *form) (any, error) {
	user, akid, err := accessKeyParams(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if _, err := a.resolveUser(ctx, "DeleteAccessKey", user, nil); err != nil {
		return nil, err
	}
	return nil, backendErr(a.b.DeleteAccessKey(ctx, user, akid), entity{"key", akid})
}
