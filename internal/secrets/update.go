package secrets

import (
	"context"
	"slices"
	"time"
)

// UpdateInput is the input of Update. Nil fields are left unchanged.
type UpdateInput struct {
	SecretID    string
	Token       string // ClientRequestToken for the new version, if Value is set
	Description *string
	KMSKeyID    *string
	Value       *Payload // new AWSCURRENT version
}

// Update changes a secret's description or KMS key id and, with Value, adds
// a version that becomes AWSCURRENT. Errors: ErrNotFound,
// ErrScheduledForDeletion, ErrVersionExists, *ParamError.
func (s *Store) Update(ctx context.Context, in UpdateInput) (*Ref, error) {
	edit := func(r *record) {
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.KMSKeyID != nil {
			r.KMSKeyID = *in.KMSKeyID
		}
	}
	if in.Value != nil {
		if err := checkPayload(in.Value); err != nil {
			return nil, err
		}
		return s.addVersion(ctx, in.SecretID, in.Token, *in.Value, nil, edit)
	}
	return s.editLive(ctx, in.SecretID, edit)
}

// Tag adds or overwrites tags. Errors: ErrNotFound, ErrScheduledForDeletion,
// *ParamError.
func (s *Store) Tag(ctx context.Context, secretID string, tags []Tag) (*Ref, error) {
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	r, err := s.mutate(ctx, secretID, func(r *record, now time.Time) (bool, error) {
		if r.scheduled() {
			return false, ErrScheduledForDeletion
		}
		merged := mergeTags(r.Tags, tags)
		if len(merged) > maxTags {
			return false, &ParamError{Msg: "You can't add more than 50 tags to a secret."}
		}
		r.Tags = merged
		r.LastChanged = now
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return r.ref(nil), nil
}

// Untag removes the tags with the given keys; missing keys are ignored.
// Errors: ErrNotFound, ErrScheduledForDeletion.
func (s *Store) Untag(ctx context.Context, secretID string, keys []string) (*Ref, error) {
	r, err := s.mutate(ctx, secretID, func(r *record, now time.Time) (bool, error) {
		if r.scheduled() {
			return false, ErrScheduledForDeletion
		}
		r.Tags = slices.DeleteFunc(r.Tags, func(t Tag) bool { return slices.Contains(keys, t.Key) })
		r.LastChanged = now
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return r.ref(nil), nil
}

// StageInput is the input of UpdateVersionStage.
type StageInput struct {
	SecretID   string
	Stage      string
	MoveTo     string // version to attach Stage to
	RemoveFrom string // version Stage must currently be on
}

// UpdateVersionStage moves or removes a staging label. Moving AWSCURRENT
// gives AWSPREVIOUS to the version that had it. Errors: ErrNotFound,
// ErrScheduledForDeletion, *VersionNotFoundError, *ParamError.
func (s *Store) UpdateVersionStage(ctx context.Context, in StageInput) (*Ref, error) {
	r, err := s.mutate(ctx, in.SecretID, func(r *record, now time.Time) (bool, error) {
		if r.scheduled() {
			return false, ErrScheduledForDeletion
		}
		holder := r.versionByStage(in.Stage)
		if in.RemoveFrom != "" {
			from := r.versionByID(in.RemoveFrom)
			if from == nil {
				return false, &VersionNotFoundError{VersionID: in.RemoveFrom}
			}
			if from != holder {
				return false, &ParamError{Msg: "The staging label " + in.Stage + " is not currently attached to version " + in.RemoveFrom + ". Specify the version that the label is attached to."}
			}
		}
		if in.MoveTo == "" {
			if in.RemoveFrom == "" {
				return false, &ParamError{Msg: "You must specify MoveToVersionId, RemoveFromVersionId, or both."}
			}
			if in.Stage == StageCurrent {
				return false, &ParamError{Msg: "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed."}
			}
			holder.Stages = slices.DeleteFunc(holder.Stages, func(st string) bool { return st == in.Stage })
			r.LastChanged = now
			return false, nil
		}
		to := r.versionByID(in.MoveTo)
		if to == nil {
			return false, &VersionNotFoundError{VersionID: in.MoveTo}
		}
		if holder != nil && holder != to && in.RemoveFrom == "" {
			return false, &ParamError{Msg: "The parameter RemoveFromVersionId can't be empty. Staging label " + in.Stage +
				" is currently attached to version " + holder.ID + ", so you must explicitly reference that version in RemoveFromVersionId."}
		}
		r.moveStage(in.Stage, to)
		r.LastChanged = now
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return r.ref(nil), nil
}
