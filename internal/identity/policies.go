package identity

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// MaxPolicyVersions is AWS's limit of versions per managed policy.
const MaxPolicyVersions = 5

// checkPolicy parses doc and applies an AWS size quota (characters,
// white space not counted): oversize is LimitExceeded, anything else
// MalformedPolicyDocument.
func checkPolicy(doc string, limit int) error {
	_, err := iam.Parse([]byte(doc))
	if err == nil {
		err = iam.CheckSize([]byte(doc), limit)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, iam.ErrPolicyTooLarge):
		return errf(ErrLimitExceeded, "%v", err)
	}
	return errf(ErrMalformedPolicy, "%v", err)
}

// policyName returns the name in a policy ARN of this account.
func (s *Store) policyName(arn string) (string, error) {
	prefix := "arn:aws:iam::" + s.account + ":policy/"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok || rest == "" {
		return "", errf(ErrNotFound, "Policy %s does not exist or is not attachable.", arn)
	}
	return rest[strings.LastIndexByte(rest, '/')+1:], nil
}

// CreatePolicy creates a managed policy with version v1 as default.
// Names are unique ignoring case (ErrExists).
func (s *Store) CreatePolicy(ctx context.Context, name, path, doc, description string, tags ...Tag) (*ManagedPolicy, error) {
	if err := validName("policy", name); err != nil {
		return nil, err
	}
	path, err := normPath(path)
	if err != nil {
		return nil, err
	}
	if err := checkPolicy(doc, iam.MaxManagedPolicySize); err != nil {
		return nil, err
	}
	if err := checkNewTags(tags); err != nil {
		return nil, err
	}
	now := s.clock()
	p := &ManagedPolicy{PolicyName: name, PolicyID: randomID("ANPA", 17), ARN: s.arn("policy", path, name), Path: path,
		Description: description, DefaultVersionID: "v1", CreateDate: now, UpdateDate: now, Tags: tags,
		Versions: []PolicyVersion{{VersionID: "v1", Document: doc, IsDefault: true, CreateDate: now}}}
	if err := createNamed(ctx, s, nsPolicies, name, p); err != nil {
		return nil, err
	}
	return p, nil
}

// GetPolicy returns a managed policy by ARN, with its attachment count.
func (s *Store) GetPolicy(ctx context.Context, arn string) (*ManagedPolicy, error) {
	if p, ok := awsManaged(arn); ok {
		var err error
		p.AttachmentCount, err = s.attachments(ctx, arn)
		return p, err
	}
	name, err := s.policyName(arn)
	if err != nil {
		return nil, err
	}
	p, err := get[ManagedPolicy](ctx, s.st, nsPolicies, name)
	if err != nil {
		return nil, err
	}
	if p.ARN != arn {
		return nil, ErrNotFound
	}
	p.AttachmentCount, err = s.attachments(ctx, arn)
	return p, err
}

// ListPolicies returns every managed policy.
func (s *Store) ListPolicies(ctx context.Context) ([]*ManagedPolicy, error) {
	all, err := list[ManagedPolicy](ctx, s.st, nsPolicies)
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.AttachmentCount, err = s.attachments(ctx, p.ARN); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// attachments counts users, groups and roles a policy is attached to.
func (s *Store) attachments(ctx context.Context, arn string) (int, error) {
	users, err := list[User](ctx, s.st, nsUsers)
	if err != nil {
		return 0, err
	}
	roles, err := list[Role](ctx, s.st, nsRoles)
	if err != nil {
		return 0, err
	}
	groups, err := list[Group](ctx, s.st, nsGroups)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range groups {
		if slices.Contains(g.AttachedPolicies, arn) {
			n++
		}
	}
	for _, u := range users {
		if slices.Contains(u.AttachedPolicies, arn) {
			n++
		}
	}
	for _, r := range roles {
		if slices.Contains(r.AttachedPolicies, arn) {
			n++
		}
	}
	return n, nil
}

// DeletePolicy deletes a managed policy that is attached nowhere.
func (s *Store) DeletePolicy(ctx context.Context, arn string) error {
	name, err := s.policyName(arn)
	if err != nil {
		return err
	}
	n, err := s.attachments(ctx, arn)
	if err != nil {
		return err
	}
	if n > 0 {
		return errf(ErrDeleteConflict, "Cannot delete a policy attached to entities.")
	}
	err = update(ctx, s.st, nsPolicies, name, false, func(p *ManagedPolicy) (*ManagedPolicy, error) {
		if p.ARN != arn {
			return nil, ErrNotFound
		}
		return nil, nil
	})
	s.invalidate()
	return s.deleted(ctx, nsPolicies, name, err)
}

// CreatePolicyVersion adds a version (at most MaxPolicyVersions).
func (s *Store) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (*PolicyVersion, error) {
	name, err := s.policyName(arn)
	if err != nil {
		return nil, err
	}
	if err := checkPolicy(doc, iam.MaxManagedPolicySize); err != nil {
		return nil, err
	}
	var out PolicyVersion
	err = update(ctx, s.st, nsPolicies, name, false, func(p *ManagedPolicy) (*ManagedPolicy, error) {
		if p.ARN != arn {
			return nil, ErrNotFound
		}
		if len(p.Versions) >= MaxPolicyVersions {
			return nil, errf(ErrLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxPolicyVersions)
		}
		next := 0
		for _, v := range p.Versions {
			n, _ := strconv.Atoi(strings.TrimPrefix(v.VersionID, "v"))
			next = max(next, n)
		}
		now := s.clock()
		out = PolicyVersion{VersionID: "v" + strconv.Itoa(next+1), Document: doc, IsDefault: setDefault, CreateDate: now}
		if setDefault {
			for i := range p.Versions {
				p.Versions[i].IsDefault = false
			}
			p.DefaultVersionID = out.VersionID
		}
		p.Versions = append(p.Versions, out)
		p.UpdateDate = now
		return p, nil
	})
	s.invalidate()
	return &out, err
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Store) GetPolicyVersion(ctx context.Context, arn, versionID string) (*PolicyVersion, error) {
	p, err := s.GetPolicy(ctx, arn)
	if err != nil {
		return nil, err
	}
	for _, v := range p.Versions {
		if v.VersionID == versionID {
			return &v, nil
		}
	}
	return nil, errf(ErrNotFound, "Policy %s version %s does not exist or is not attachable.", arn, versionID)
}

// defaultDocument returns the default version's document of a policy.
func (p *ManagedPolicy) defaultDocument() string {
	for _, v := range p.Versions {
		if v.VersionID == p.DefaultVersionID {
			return v.Document
		}
	}
	return ""
}
