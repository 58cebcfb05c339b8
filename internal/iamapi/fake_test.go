package iamapi

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// fakeBackend is an in-memory Backend with the identity store's error
// conventions. Hook, when set, is called first by every method and may
// inject an error.
type fakeBackend struct {
	// GroupBackend is nil: group actions are tested over the real
	// identity store (groups_test.go).
	GroupBackend
	account string
	Hook    func(method string) error

	mu       sync.Mutex // guards following fields
	n        int
	users    map[string]*identity.User
	keys     map[string]*identity.AccessKey
	roles    map[string]*identity.Role
	policies map[string]*identity.ManagedPolicy // by ARN
}

var _ Backend = (*fakeBackend)(nil)

// fakeNow is the clock of every record the fake creates.
var fakeNow = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

func newFake(account string) *fakeBackend {
	return &fakeBackend{account: account, users: map[string]*identity.User{}, keys: map[string]*identity.AccessKey{},
		roles: map[string]*identity.Role{}, policies: map[string]*identity.ManagedPolicy{}}
}

func (b *fakeBackend) hook(m string) error {
	if b.Hook != nil {
		return b.Hook(m)
	}
	return nil
}

func (b *fakeBackend) id(prefix string) string {
	b.n++
	return fmt.Sprintf("%s%017d", prefix, b.n)
}

func (b *fakeBackend) arn(kind, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + b.account + ":" + kind + path + name
}

func clone[T any](v *T) *T { c := *v; return &c }

func (b *fakeBackend) CreateUser(ctx context.Context, name, path string, tags ...identity.Tag) (*identity.User, error) {
	if err := b.hook("CreateUser"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.users[name]; ok {
		return nil, identity.ErrExists
	}
	if path == "" {
		path = "/"
	}
	u := &identity.User{UserName: name, UserID: b.id("AIDA"), ARN: b.arn("user", path, name), Path: path, CreateDate: fakeNow, Tags: tags}
	b.users[name] = u
	return clone(u), nil
}

func (b *fakeBackend) GetUser(ctx context.Context, name string) (*identity.User, error) {
	if err := b.hook("GetUser"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.users[name]
	if !ok {
		return nil, identity.ErrNotFound
	}
	return clone(u), nil
}

func (b *fakeBackend) ListUsers(ctx context.Context, pathPrefix string) ([]*identity.User, error) {
	if err := b.hook("ListUsers"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*identity.User
	for _, u := range b.users {
		if strings.HasPrefix(u.Path, pathPrefix) {
			out = append(out, clone(u))
		}
	}
	return out, nil
}

func (b *fakeBackend) DeleteUser(ctx context.Context, name string) error {
	if err := b.hook("DeleteUser"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.users[name]
	if !ok {
		return identity.ErrNotFound
	}
	for _, k := range b.keys {
		if k.UserName == name {
			return fmt.Errorf("%w: Cannot delete entity, must delete access keys first.", identity.ErrDeleteConflict)
		}
	}
	if len(u.InlinePolicies)+len(u.AttachedPolicies) > 0 {
		return fmt.Errorf("%w: Cannot delete entity, must delete policies first.", identity.ErrDeleteConflict)
	}
	delete(b.users, name)
	return nil
}

func (b *fakeBackend) CreateAccessKey(ctx context.Context, user string) (*identity.AccessKey, identity.Credentials, error) {
	if err := b.hook("CreateAccessKey"); err != nil {
		return nil, identity.Credentials{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.users[user]; !ok {
		return nil, identity.Credentials{}, identity.ErrNotFound
	}
	n := 0
	for _, k := range b.keys {
		if k.UserName == user {
			n++
		}
	}
	if n >= 2 {
		return nil, identity.Credentials{}, fmt.Errorf("%w: Cannot exceed quota for AccessKeysPerUser: 2", identity.ErrLimitExceeded)
	}
	k := &identity.AccessKey{AccessKeyID: b.id("AKIA"), UserName: user, Status: "Active", CreateDate: fakeNow}
	b.keys[k.AccessKeyID] = k
	return clone(k), identity.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: "SECRET-" + k.AccessKeyID}, nil
}

func (b *fakeBackend) ListAccessKeys(ctx context.Context, user string) ([]*identity.AccessKey, error) {
	if err := b.hook("ListAccessKeys"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*identity.AccessKey
	for _, k := range b.keys {
		if k.UserName == user {
			out = append(out, clone(k))
		}
	}
	return out, nil
}

func (b *fakeBackend) UpdateAccessKey(ctx context.Context, user, akid, status string) error {
	if err := b.hook("UpdateAccessKey"); err != nil {
		return err
	}
	if status != "Active" && status != "Inactive" {
		return fmt.Errorf("%w: status must be Active or Inactive", identity.ErrInvalidInput)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.keys[akid]
	if !ok || k.UserName != user {
		return identity.ErrNotFound
	}
	k.Status = status
	return nil
}

func (b *fakeBackend) DeleteAccessKey(ctx context.Context, user, akid string) error {
	if err := b.hook("DeleteAccessKey"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.keys[akid]
	if !ok || k.UserName != user {
		return identity.ErrNotFound
	}
	delete(b.keys, akid)
	return nil
}

// inline returns the inline policy map of a user or role.
func (b *fakeBackend) inline(kind, name string) (map[string]string, *[]string, error) {
	switch kind {
	case "user":
		if u, ok := b.users[name]; ok {
			if u.InlinePolicies == nil {
				u.InlinePolicies = map[string]string{}
			}
			return u.InlinePolicies, &u.AttachedPolicies, nil
		}
	case "role":
		if r, ok := b.roles[name]; ok {
			if r.InlinePolicies == nil {
				r.InlinePolicies = map[string]string{}
			}
			return r.InlinePolicies, &r.AttachedPolicies, nil
		}
	}
	return nil, nil, identity.ErrNotFound
}

func checkDoc(doc string) error {
	if _, err := iam.Parse([]byte(doc)); err != nil {
		return fmt.Errorf("%w: %v", identity.ErrMalformedPolicy, err)
	}
	return nil
}

func (b *fakeBackend) putPolicy(kind, name, policy, doc string) error {
	if err := checkDoc(doc); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m, _, err := b.inline(kind, name)
	if err != nil {
		return err
	}
	m[policy] = doc
	return nil
}

func (b *fakeBackend) PutUserPolicy(ctx context.Context, user, name, doc string) error {
	if err := b.hook("PutUserPolicy"); err != nil {
		return err
	}
	return b.putPolicy("user", user, name, doc)
}

func (b *fakeBackend) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	if err := b.hook("PutRolePolicy"); err != nil {
		return err
	}
	return b.putPolicy("role", role, name, doc)
}

func (b *fakeBackend) GetUserPolicy(ctx context.Context, user, name string) (string, error) {
	if err := b.hook("GetUserPolicy"); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m, _, err := b.inline("user", user)
	if err != nil {
		return "", err
	}
	doc, ok := m[name]
	if !ok {
		return "", fmt.Errorf("%w: The user policy with name %s cannot be found.", identity.ErrNotFound, name)
	}
	return doc, nil
}

func (b *fakeBackend) DeleteUserPolicy(ctx context.Context, user, name string) error {
	if err := b.hook("DeleteUserPolicy"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m, _, err := b.inline("user", user)
	if err != nil {
		return err
	}
	if _, ok := m[name]; !ok {
		return fmt.Errorf("%w: The user policy with name %s cannot be found.", identity.ErrNotFound, name)
	}
	delete(m, name)
	return nil
}

func (b *fakeBackend) DeleteRolePolicy(ctx context.Context, role, name string) error {
	if err := b.hook("DeleteRolePolicy"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m, _, err := b.inline("role", role)
	if err != nil {
		return err
	}
	if _, ok := m[name]; !ok {
		return fmt.Errorf("%w: The role policy with name %s cannot be found.", identity.ErrNotFound, name)
	}
	delete(m, name)
	return nil
}

func (b *fakeBackend) ListUserPolicies(ctx context.Context, user string) ([]string, error) {
	if err := b.hook("ListUserPolicies"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m, _, err := b.inline("user", user)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(m)), nil
}

func (b *fakeBackend) attach(kind, name, arn string, attach bool) error {
	if err := b.hook(kind + "Attachment"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.policies[arn]; !ok && attach {
		return identity.ErrNotFound
	}
	_, list, err := b.inline(kind, name)
	if err != nil {
		return err
	}
	i := slices.Index(*list, arn)
	switch {
	case attach && i < 0:
		*list = append(*list, arn)
	case !attach && i < 0:
		return fmt.Errorf("%w: Policy %s was not found.", identity.ErrNotFound, arn)
	case !attach:
		*list = slices.Delete(*list, i, i+1)
	}
	return nil
}

func (b *fakeBackend) AttachUserPolicy(ctx context.Context, user, arn string) error {
	return b.attach("user", user, arn, true)
}
func (b *fakeBackend) DetachUserPolicy(ctx context.Context, user, arn string) error {
	return b.attach("user", user, arn, false)
}
func (b *fakeBackend) AttachRolePolicy(ctx context.Context, role, arn string) error {
	return b.attach("role", role, arn, true)
}
func (b *fakeBackend) DetachRolePolicy(ctx context.Context, role, arn string) error {
	return b.attach("role", role, arn, false)
}
