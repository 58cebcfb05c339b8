package iamapi

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// Role edits of fakeBackend.

func (b *fakeBackend) GetRolePolicy(ctx context.Context, role, name string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roles[role]
	if !ok {
		return "", identity.ErrNotFound
	}
	doc, ok := r.InlinePolicies[name]
	if !ok {
		return "", fmt.Errorf("%w: The role policy with name %s cannot be found.", identity.ErrNotFound, name)
	}
	return doc, nil
}

func (b *fakeBackend) ListRolePolicies(ctx context.Context, role string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roles[role]
	if !ok {
		return nil, identity.ErrNotFound
	}
	return slices.Sorted(maps.Keys(r.InlinePolicies)), nil
}

func (b *fakeBackend) UpdateRole(ctx context.Context, name string, description *string, maxSession int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roles[name]
	if !ok {
		return identity.ErrNotFound
	}
	if description != nil {
		r.Description = *description
	}
	if maxSession != 0 {
		r.MaxSessionDuration = maxSession
	}
	return nil
}

func (b *fakeBackend) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	if _, err := iam.ParseTrustPolicy([]byte(doc)); err != nil {
		return fmt.Errorf("%w: %v", identity.ErrMalformedPolicy, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.roles[name]
	if !ok {
		return identity.ErrNotFound
	}
	r.TrustPolicy = doc
	return nil
}
