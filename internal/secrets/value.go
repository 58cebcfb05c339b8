package secrets

import (
	"context"
	"slices"
	"time"
)

// GetValue returns the decrypted value of one version of a secret, chosen by
// versionID, else by stage (default AWSCURRENT). secretID is a name, ARN or
// partial ARN. It records the access date. Errors: ErrNotFound,
// *VersionNotFoundError, ErrStageMismatch, ErrScheduledForDeletion, ErrDecrypt.
func (s *Store) GetValue(ctx context.Context, secretID, versionID, stage string) (*Value, error) {
	r, err := s.load(ctx, secretID)
	if err != nil {
		return nil, err
	}
	if r.scheduled() {
		return nil, ErrScheduledForDeletion
	}
	v, err := pickVersion(r, versionID, stage)
	if err != nil {
		return nil, err
	}
	p, err := s.open(r.ARN, v)
	if err != nil {
		return nil, err
	}
	s.touch(ctx, r, v)
	return newValue(r, v, p), nil
}

func newValue(r *record, v *version, p Payload) *Value {
	return &Value{ARN: r.ARN, Name: r.Name, VersionID: v.ID, Stages: slices.Clone(v.Stages), Created: v.Created, Payload: p}
}

func pickVersion(r *record, versionID, stage string) (*version, error) {
	if versionID != "" {
		v := r.versionByID(versionID)
		if v == nil {
			return nil, &VersionNotFoundError{VersionID: versionID}
		}
		if stage != "" && !slices.Contains(v.Stages, stage) {
			return nil, ErrStageMismatch
		}
		return v, nil
	}
	if stage == "" {
		stage = StageCurrent
	}
	v := r.versionByStage(stage)
	if v == nil {
		return nil, &VersionNotFoundError{Stage: stage}
	}
	return v, nil
}

// touch records today as the last-access date of r and v, writing only when
// the date changes so reads stay read-only. It is best effort: losing an
// access date is better than failing a read.
func (s *Store) touch(ctx context.Context, r *record, v *version) {
	today := day(s.clock())
	if r.LastAccessed != nil && r.LastAccessed.Equal(today) && v.LastAccessed != nil && v.LastAccessed.Equal(today) {
		return
	}
	_, _ = s.mutate(ctx, r.ARN, func(r *record, _ time.Time) (bool, error) {
		r.LastAccessed = &today
		if v := r.versionByID(v.ID); v != nil {
			v.LastAccessed = &today
		}
		return false, nil
	})
}

// PutInput is the input of PutValue.
type PutInput struct {
	SecretID string
	// Token (ClientRequestToken) becomes the version id; a retry with the
	// same token and value is a no-op. Generated when empty.
	Token string
	Value Payload
	// Stages for the new version; default AWSCURRENT. Each stage moves off
	// the version that had it; the old AWSCURRENT becomes AWSPREVIOUS.
	Stages []string
}

// PutValue adds a version to a secret. Errors: ErrNotFound,
// ErrScheduledForDeletion, ErrVersionExists, *ParamError.
func (s *Store) PutValue(ctx context.Context, in PutInput) (*Ref, error) {
	if err := checkPayload(&in.Value); err != nil {
		return nil, err
	}
	return s.addVersion(ctx, in.SecretID, in.Token, in.Value, in.Stages, nil)
}

// addVersion adds a version in one update, after applying edit (if any) to
// the record.
func (s *Store) addVersion(ctx context.Context, id, token string, p Payload, stages []string, edit func(*record)) (*Ref, error) {
	if token == "" {
		token = NewVersionID()
	}
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	var out *Ref
	_, err := s.mutate(ctx, id, func(r *record, now time.Time) (bool, error) {
		if r.scheduled() {
			return false, ErrScheduledForDeletion
		}
		if old := r.versionByID(token); old != nil {
			got, err := s.open(r.ARN, old)
			if err != nil {
				return false, err
			}
			if !got.equal(p) {
				return false, ErrVersionExists
			}
			out = r.ref(old) // idempotent retry
			if edit != nil {
				edit(r)
			}
			return false, nil
		}
		if edit != nil {
			edit(r)
		}
		v := s.newVersion(r, token, p, now)
		r.Versions = append(r.Versions, v)
		for _, st := range stages {
			r.moveStage(st, v)
		}
		r.LastChanged = now
		r.prune(now)
		out = r.ref(v)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
