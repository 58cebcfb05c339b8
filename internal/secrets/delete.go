package secrets

import (
	"context"
	"time"
)

// Recovery window bounds for Delete, in days.
const (
	MinRecoveryDays     = 7
	MaxRecoveryDays     = 30
	DefaultRecoveryDays = 30
)

// DeleteResult is the outcome of Delete.
type DeleteResult struct {
	ARN          string
	Name         string
	DeletionDate time.Time // purge time; now for a forced delete
}

// Delete schedules a secret for deletion after recoveryDays (0 = default
// 30), or removes it at once when force is set (also for a secret already
// scheduled). Errors: ErrNotFound, ErrScheduledForDeletion, *ParamError.
func (s *Store) Delete(ctx context.Context, secretID string, recoveryDays int, force bool) (*DeleteResult, error) {
	if recoveryDays == 0 {
		recoveryDays = DefaultRecoveryDays
	}
	if !force && (recoveryDays < MinRecoveryDays || recoveryDays > MaxRecoveryDays) {
		return nil, &ParamError{Msg: "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."}
	}
	var out DeleteResult
	_, err := s.mutate(ctx, secretID, func(r *record, now time.Time) (bool, error) {
		out = DeleteResult{ARN: r.ARN, Name: r.Name, DeletionDate: now}
		if force {
			return true, nil
		}
		if r.scheduled() {
			return false, ErrScheduledForDeletion
		}
		when := now.Add(time.Duration(recoveryDays) * 24 * time.Hour)
		r.DeletedAt, r.DeletionDate = &now, &when
		out.DeletionDate = when
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Restore cancels a scheduled deletion. Restoring a live secret is a no-op.
// Errors: ErrNotFound.
func (s *Store) Restore(ctx context.Context, secretID string) (*Ref, error) {
	r, err := s.mutate(ctx, secretID, func(r *record, now time.Time) (bool, error) {
		if r.scheduled() {
			r.DeletedAt, r.DeletionDate = nil, nil
			r.LastChanged = now
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return r.ref(nil), nil
}
