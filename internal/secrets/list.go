package secrets

import (
	"context"
	"fmt"
)

// Describe returns a secret's metadata, also for a secret scheduled for
// deletion. Errors: ErrNotFound.
func (s *Store) Describe(ctx context.Context, secretID string) (*Secret, error) {
	r, err := s.load(ctx, secretID)
	if err != nil {
		return nil, err
	}
	return r.secret(), nil
}

// Ident is what authorizing a request on a secret needs: its ARN, name
// and tags.
type Ident struct {
	ARN, Name string
	// Tags are shared with the store's cache: read them, never modify.
	Tags []Tag
}

// Identify resolves secretID like Describe, without copying the secret's
// versions (the Data API asks on every call). Errors: ErrNotFound.
func (s *Store) Identify(ctx context.Context, secretID string) (Ident, error) {
	r, err := s.load(ctx, secretID)
	if err != nil {
		return Ident{}, err
	}
	return Ident{ARN: r.ARN, Name: r.Name, Tags: r.Tags}, nil
}

// List returns every secret sorted by name, leaving out secrets scheduled for
// deletion unless includeScheduled. Secrets past their deletion date are
// purged on the way.
func (s *Store) List(ctx context.Context, includeScheduled bool) ([]*Secret, error) {
	kvs, err := s.st.List(ctx, namespace, "")
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	now := s.clock()
	out := make([]*Secret, 0, len(kvs))
	for _, kv := range kvs {
		r, err := decodeRecord(kv.Value)
		if err != nil {
			return nil, err
		}
		if r.expired(now) {
			if err := s.purge(ctx, r.Name); err != ErrNotFound {
				return nil, err
			}
			continue
		}
		if r.scheduled() && !includeScheduled {
			continue
		}
		out = append(out, r.secret())
	}
	return out, nil
}
