package secrets

import (
	"context"
	"time"
)

// SetPolicy stores doc as the secret's resource policy (validated by the
// caller). Errors: ErrNotFound, ErrScheduledForDeletion.
func (s *Store) SetPolicy(ctx context.Context, secretID, doc string) (*Ref, error) {
	return s.editLive(ctx, secretID, func(r *record) { r.Policy = doc })
}

// DeletePolicy removes the secret's resource policy (no error when it has
// none). Errors: ErrNotFound, ErrScheduledForDeletion.
func (s *Store) DeletePolicy(ctx context.Context, secretID string) (*Ref, error) {
	return s.editLive(ctx, secretID, func(r *record) { r.Policy = "" })
}

// editLive applies edit to a secret that is not scheduled for deletion and
// bumps its LastChangedDate.
func (s *Store) editLive(ctx context.Context, secretID string, edit func(r *record)) (*Ref, error) {
	r, err := s.mutate(ctx, secretID, func(r *record, now time.Time) (bool, error) {
		if r.scheduled() {
			return false, ErrScheduledForDeletion
		}
		edit(r)
		r.LastChanged = now
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return r.ref(nil), nil
}
