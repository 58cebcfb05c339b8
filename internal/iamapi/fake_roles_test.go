package iamapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// Roles, managed policies and sessions of fakeBackend.

func (b *fakeBackend) CreateRole(ctx context.Context, name, path, trust, desc string, maxSession int, tags ...identity.Tag) (*identity.Role, error) {
	if err := b.hook("CreateRole"); err != nil {
		return nil, err
	}
	if _, err := iam.ParseTrustPolicy([]byte(trust)); err != nil {
		return nil, fmt.Errorf("%w: %v", identity.ErrMalformedPolicy, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.roles[name]; ok {
		return nil, identity.ErrExists
	}
	if path == "" {
		path = "/"
	}
	if maxSession == 0 {
		maxSession = 3600
	}
	r := &identity.Role{RoleName: name, RoleID: b.id("AROA"), ARN: b.arn("role", path, name), Path: path, Description: desc,
		CreateDate: fakeNow, TrustPolicy: trust, MaxSessionDuration: maxSession, Tags: tags}
	b.roles[name] = r
	return clone(r), nil
}

func (b *fakeBackend) GetRole(ctx context.Context, name string) (*identity.Role, error) {
	if err := b.hook("GetRole"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roles[name]
	if !ok {
		return nil, identity.ErrNotFound
	}
	return clone(r), nil
}

func (b *fakeBackend) ListRoles(ctx context.Context) ([]*identity.Role, error) {
	if err := b.hook("ListRoles"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*identity.Role
	for _, r := range b.roles {
		out = append(out, clone(r))
	}
	return out, nil
}

func (b *fakeBackend) DeleteRole(ctx context.Context, name string) error {
	if err := b.hook("DeleteRole"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roles[name]
	if !ok {
		return identity.ErrNotFound
	}
	if len(r.InlinePolicies)+len(r.AttachedPolicies) > 0 {
		return fmt.Errorf("%w: Cannot delete entity, must detach all policies first.", identity.ErrDeleteConflict)
	}
	delete(b.roles, name)
	return nil
}

func (b *fakeBackend) CreatePolicy(ctx context.Context, name, path, doc, desc string, tags ...identity.Tag) (*identity.ManagedPolicy, error) {
	if err := b.hook("CreatePolicy"); err != nil {
		return nil, err
	}
	if err := checkDoc(doc); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	arn := b.arn("policy", path, name)
	for _, p := range b.policies {
		if p.PolicyName == name {
			return nil, identity.ErrExists
		}
	}
	if path == "" {
		path = "/"
	}
	p := &identity.ManagedPolicy{PolicyName: name, PolicyID: b.id("ANPA"), ARN: arn, Path: path, Description: desc,
		DefaultVersionID: "v1", CreateDate: fakeNow, UpdateDate: fakeNow, Tags: tags,
		Versions: []identity.PolicyVersion{{VersionID: "v1", Document: doc, IsDefault: true, CreateDate: fakeNow}}}
	b.policies[arn] = p
	return b.withCount(p), nil
}

// withCount returns a copy of p with its attachment count.
func (b *fakeBackend) withCount(p *identity.ManagedPolicy) *identity.ManagedPolicy {
	c := clone(p)
	c.Versions = slices.Clone(p.Versions)
	c.AttachmentCount = 0
	for _, u := range b.users {
		if slices.Contains(u.AttachedPolicies, p.ARN) {
			c.AttachmentCount++
		}
	}
	for _, r := range b.roles {
		if slices.Contains(r.AttachedPolicies, p.ARN) {
			c.AttachmentCount++
		}
	}
	return c
}

func (b *fakeBackend) GetPolicy(ctx context.Context, arn string) (*identity.ManagedPolicy, error) {
	if err := b.hook("GetPolicy"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.policies[arn]
	if !ok {
		return nil, identity.ErrNotFound
	}
	return b.withCount(p), nil
}

func (b *fakeBackend) GetPolicyVersion(ctx context.Context, arn, versionID string) (*identity.PolicyVersion, error) {
	p, err := b.GetPolicy(ctx, arn)
	if err != nil {
		return nil, err
	}
	for _, v := range p.Versions {
		if v.VersionID == versionID {
			return &v, nil
		}
	}
	return nil, fmt.Errorf("%w: Policy %s version %s does not exist or is not attachable.", identity.ErrNotFound, arn, versionID)
}

func (b *fakeBackend) ListPolicies(ctx context.Context) ([]*identity.ManagedPolicy, error) {
	if err := b.hook("ListPolicies"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*identity.ManagedPolicy
	for _, p := range b.policies {
		out = append(out, b.withCount(p))
	}
	return out, nil
}

func (b *fakeBackend) DeletePolicy(ctx context.Context, arn string) error {
	if err := b.hook("DeletePolicy"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.policies[arn]
	if !ok {
		return identity.ErrNotFound
	}
	if b.withCount(p).AttachmentCount > 0 {
		return fmt.Errorf("%w: Cannot delete a policy attached to entities.", identity.ErrDeleteConflict)
	}
	delete(b.policies, arn)
	return nil
}

func (b *fakeBackend) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (*identity.PolicyVersion, error) {
	if err := b.hook("CreatePolicyVersion"); err != nil {
		return nil, err
	}
	if err := checkDoc(doc); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.policies[arn]
	if !ok {
		return nil, identity.ErrNotFound
	}
	if len(p.Versions) >= 5 {
		return nil, fmt.Errorf("%w: A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.", identity.ErrLimitExceeded)
	}
	v := identity.PolicyVersion{VersionID: "v" + strconv.Itoa(len(p.Versions)+1), Document: doc, IsDefault: setDefault, CreateDate: fakeNow}
	if setDefault {
		for i := range p.Versions {
			p.Versions[i].IsDefault = false
		}
		p.DefaultVersionID = v.VersionID
	}
	p.Versions = append(p.Versions, v)
	return &v, nil
}

// AssumeRole allows callers whose ARN the trust policy names literally
// (the real trust evaluation is identity's and iam's to test).
func (b *fakeBackend) AssumeRole(ctx context.Context, caller *iam.Principal, in identity.AssumeInput) (*identity.Session, identity.Credentials, error) {
	roleARN, sessionName, d := in.RoleARN, in.SessionName, in.Duration
	if err := b.hook("AssumeRole"); err != nil {
		return nil, identity.Credentials{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roles[roleARN[strings.LastIndexByte(roleARN, '/')+1:]]
	if !ok || r.ARN != roleARN {
		return nil, identity.Credentials{}, fmt.Errorf("%w: role %s", identity.ErrNotFound, roleARN)
	}
	if !strings.Contains(r.TrustPolicy, `"`+caller.ARN+`"`) {
		return nil, identity.Credentials{}, identity.ErrAssumeDenied
	}
	if d == 0 {
		d = time.Hour
	}
	if d > time.Duration(r.MaxSessionDuration)*time.Second {
		return nil, identity.Credentials{}, fmt.Errorf("%w: The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", identity.ErrInvalidInput)
	}
	akid := b.id("ASIA")
	s := &identity.Session{AccessKeyID: akid, RoleName: r.RoleName, RoleARN: r.ARN, RoleID: r.RoleID, SessionName: sessionName,
		AssumedRoleARN: "arn:aws:sts::" + b.account + ":assumed-role/" + r.RoleName + "/" + sessionName,
		Expiration:     fakeNow.Add(d), CallerARN: caller.ARN}
	return s, identity.Credentials{AccessKeyID: akid, SecretAccessKey: "STSSECRET-" + akid, SessionToken: "TOKEN-" + akid, Expiration: s.Expiration}, nil
}

// Tags of fakeBackend: the last write of a key wins (no case folding).

func (b *fakeBackend) TagUser(ctx context.Context, name string, tags identity.Tags) error {
	return b.retag(func() (*identity.Tags, bool) { u, ok := b.users[name]; return tagsOf(u, ok) }, tags, nil)
}

func (b *fakeBackend) UntagUser(ctx context.Context, name string, keys []string) error {
	return b.retag(func() (*identity.Tags, bool) { u, ok := b.users[name]; return tagsOf(u, ok) }, nil, keys)
}

func (b *fakeBackend) TagRole(ctx context.Context, name string, tags identity.Tags) error {
	return b.retag(func() (*identity.Tags, bool) { r, ok := b.roles[name]; return roleTagsOf(r, ok) }, tags, nil)
}

func (b *fakeBackend) UntagRole(ctx context.Context, name string, keys []string) error {
	return b.retag(func() (*identity.Tags, bool) { r, ok := b.roles[name]; return roleTagsOf(r, ok) }, nil, keys)
}

func (b *fakeBackend) TagPolicy(ctx context.Context, arn string, tags identity.Tags) error {
	return b.retag(func() (*identity.Tags, bool) { p, ok := b.policies[arn]; return policyTagsOf(p, ok) }, tags, nil)
}

func (b *fakeBackend) UntagPolicy(ctx context.Context, arn string, keys []string) error {
	return b.retag(func() (*identity.Tags, bool) { p, ok := b.policies[arn]; return policyTagsOf(p, ok) }, nil, keys)
}

func tagsOf(u *identity.User, ok bool) (*identity.Tags, bool) {
	if !ok {
		return nil, false
	}
	return &u.Tags, true
}

func roleTagsOf(r *identity.Role, ok bool) (*identity.Tags, bool) {
	if !ok {
		return nil, false
	}
	return &r.Tags, true
}

func policyTagsOf(p *identity.ManagedPolicy, ok bool) (*identity.Tags, bool) {
	if !ok {
		return nil, false
	}
	return &p.Tags, true
}

func (b *fakeBackend) retag(find func() (*identity.Tags, bool), add identity.Tags, remove []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts, ok := find()
	if !ok {
		return identity.ErrNotFound
	}
	for _, k := range remove {
		*ts = slices.DeleteFunc(*ts, func(t identity.Tag) bool { return t.Key == k })
	}
	for _, t := range add {
		*ts = slices.DeleteFunc(*ts, func(o identity.Tag) bool { return o.Key == t.Key })
		*ts = append(*ts, t)
	}
	return nil
}
