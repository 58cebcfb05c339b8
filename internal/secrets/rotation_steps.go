package secrets

import (
	"context"
	"slices"
	"time"
)

// Due returns the ARNs of the secrets whose rotation was requested or
// whose schedule is due at now.
func (s *Store) Due(ctx context.Context, now time.Time) ([]string, error) {
	all, err := s.List(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sec := range all {
		r := sec.Rotation
		if r == nil || !r.Enabled {
			continue
		}
		if next := r.Next(); r.Requested != nil || (!next.IsZero() && !now.Before(next)) {
			out = append(out, sec.ARN)
		}
	}
	return out, nil
}

// PendingVersion returns the version id of the rotation in progress on the
// secret, assigning one when the rotation was started by the schedule.
func (s *Store) PendingVersion(ctx context.Context, arn string) (string, error) {
	var vid string
	_, err := s.mutate(ctx, arn, func(r *record, now time.Time) (bool, error) {
		if r.Rotation == nil {
			return false, &RequestError{Msg: "rotation is not configured"}
		}
		if r.Rotation.PendingVersion == "" {
			r.Rotation.PendingVersion = NewVersionID()
		}
		vid = r.Rotation.PendingVersion
		return false, nil
	})
	return vid, err
}

// MarkSetting records that the set step is about to make the database
// accept version vid (and maybe refuse AWSCURRENT).
func (s *Store) MarkSetting(ctx context.Context, arn, vid string) error {
	return s.editRotation(ctx, arn, func(rot *Rotation, _ time.Time) { rot.Setting = vid })
}

// MarkLive records that the database accepts the AWSPENDING version vid
// (the set step succeeded): LiveValue answers it from now on.
func (s *Store) MarkLive(ctx context.Context, arn, vid string) error {
	return s.editRotation(ctx, arn, func(rot *Rotation, _ time.Time) { rot.LivePending, rot.Setting = vid, "" })
}

// ClearLive undoes MarkLive (the database was set back to AWSCURRENT).
func (s *Store) ClearLive(ctx context.Context, arn string) error {
	return s.editRotation(ctx, arn, func(rot *Rotation, _ time.Time) { rot.LivePending = "" })
}

// FinishRotation moves AWSCURRENT to version vid (the old current version
// becomes AWSPREVIOUS), removes AWSPENDING and records the rotation.
func (s *Store) FinishRotation(ctx context.Context, arn, vid string) error {
	_, err := s.mutate(ctx, arn, func(r *record, now time.Time) (bool, error) {
		v := r.versionByID(vid)
		if v == nil {
			return false, &VersionNotFoundError{VersionID: vid}
		}
		r.moveStage(StageCurrent, v)
		v.Stages = slices.DeleteFunc(v.Stages, func(st string) bool { return st == StagePending })
		if r.Rotation != nil {
			t := now
			r.Rotation.LastRotated = &t
			r.Rotation.Requested, r.Rotation.PendingVersion, r.Rotation.LivePending, r.Rotation.Setting = nil, "", "", ""
			r.Rotation.Failure, r.Rotation.FailedAt = "", nil
		}
		r.LastChanged = now
		return false, nil
	})
	return err
}

// FailRotation records a failed attempt: AWSCURRENT is untouched, the
// AWSPENDING version stays for inspection (and stays live if the database
// already has it: see ClearLive), and the request is cleared so
// that the next attempt is the next RotateSecret or schedule. msg must not
// contain secret values.
func (s *Store) FailRotation(ctx context.Context, arn, msg string) error {
	return s.editRotation(ctx, arn, func(rot *Rotation, now time.Time) {
		t := now
		rot.Failure, rot.FailedAt, rot.Requested, rot.Setting = msg, &t, nil, ""
		// The schedule counts again from the failure, so a broken
		// rotation is not retried in a tight loop.
		rot.LastRotated = &t
	})
}

func (s *Store) editRotation(ctx context.Context, arn string, fn func(*Rotation, time.Time)) error {
	_, err := s.mutate(ctx, arn, func(r *record, now time.Time) (bool, error) {
		if r.Rotation == nil {
			return false, &RequestError{Msg: "rotation is not configured"}
		}
		fn(r.Rotation, now)
		return false, nil
	})
	return err
}

// Generation changes whenever a secret may have changed (a write here, or
// one by another node reported through Run): readers that cache values
// reload when it moves.
func (s *Store) Generation() uint64 { return s.generation() }

// GraceValue returns the other value clients may log in with when the one
// LiveValue answers is refused: the AWSPENDING value while the set step
// runs, the AWSCURRENT value once it has set AWSPENDING on the database, or the AWSPREVIOUS value for grace after a rotation finished.
// ok is false when there is none.
func (s *Store) GraceValue(ctx context.Context, secretID string, grace time.Duration) (v *Value, ok bool, err error) {
	r, err := s.load(ctx, secretID)
	if err != nil {
		return nil, false, err
	}
	rot := r.Rotation
	stage := ""
	switch {
	case rot == nil:
		return nil, false, nil
	case rot.Setting != "":
		v, err = s.GetValue(ctx, r.ARN, rot.Setting, "")
		if err != nil {
			return nil, false, err
		}
		return v, true, nil
	case rot.LivePending != "":
		stage = StageCurrent
	case rot.LastRotated != nil && rot.Failure == "" && s.clock().Sub(*rot.LastRotated) <= grace && r.versionByStage(StagePrevious) != nil:
		stage = StagePrevious
	default:
		return nil, false, nil
	}
	v, err = s.GetValue(ctx, r.ARN, "", stage)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}
