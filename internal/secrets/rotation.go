package secrets

import (
	"context"
	"time"
)

// Rotation is a secret's rotation configuration and state, as
// DescribeSecret reports it (RotationEnabled, RotationRules,
// LastRotatedDate, NextRotationDate) plus the outcome of the last attempt.
type Rotation struct {
	Enabled bool `json:"enabled"`
	// LambdaARN is accepted and stored for DescribeSecret but never
	// invoked: sqlgate rotates database secrets itself.
	LambdaARN string `json:"lambdaArn,omitempty"`
	Rules     Rules  `json:"rules"`
	// Configured is when the rules were last set: the schedule counts from
	// it until the first rotation.
	Configured  time.Time  `json:"configured"`
	LastRotated *time.Time `json:"lastRotated,omitempty"`
	// Requested is set by RotateImmediately (or a due schedule) and cleared
	// when an attempt finishes.
	Requested *time.Time `json:"requested,omitempty"`
	// PendingVersion is the AWSPENDING version of the attempt in progress
	// (or of the failed one).
	PendingVersion string `json:"pendingVersion,omitempty"`
	// LivePending is the AWSPENDING version the database already accepts
	// (the set step succeeded) until the rotation finishes: clients that
	// open new connections use it from then on (see LiveValue).
	LivePending string `json:"livePending,omitempty"`
	// Setting is the AWSPENDING version being set on the database: while
	// it is, either password may be the one the database accepts, and
	// GraceValue answers the pending one.
	Setting string `json:"setting,omitempty"`
	// Failure describes the last failed attempt ("" after a success).
	Failure  string     `json:"failure,omitempty"`
	FailedAt *time.Time `json:"failedAt,omitempty"`
}

// Rules are RotationRules: AfterDays or Schedule, with an optional
// Duration window ("3h").
type Rules struct {
	AfterDays int64  `json:"afterDays,omitempty"`
	Schedule  string `json:"schedule,omitempty"`
	Duration  string `json:"duration,omitempty"`
}

// Next returns when the next scheduled rotation is due, counting from the
// last rotation (or from when rotation was configured); zero when rotation
// is disabled or has no rule.
func (r *Rotation) Next() time.Time {
	if r == nil || !r.Enabled {
		return time.Time{}
	}
	base := r.Configured
	if r.LastRotated != nil {
		base = *r.LastRotated
	}
	sch, err := ParseRules(r.Rules)
	if err != nil || sch == nil {
		return time.Time{}
	}
	return sch.Next(base)
}

// ConfigureInput is the input of ConfigureRotation.
type ConfigureInput struct {
	SecretID  string
	LambdaARN *string
	Rules     *Rules // nil keeps the stored rules
	Immediate bool   // request a rotation now
	Token     string // version id of the rotation's AWSPENDING version
}

// ConfigureRotation enables rotation with the given rules (validated with
// ParseRules by the caller) and, with Immediate, requests a rotation.
// Errors: ErrNotFound, ErrScheduledForDeletion, *RequestError when a
// rotation is already in progress.
func (s *Store) ConfigureRotation(ctx context.Context, in ConfigureInput) (*Ref, error) {
	r, err := s.mutate(ctx, in.SecretID, func(r *record, now time.Time) (bool, error) {
		if r.scheduled() {
			return false, ErrScheduledForDeletion
		}
		rot := r.Rotation
		if rot == nil {
			rot = &Rotation{}
		}
		if in.Immediate && rot.Requested != nil {
			return false, &RequestError{Msg: "A previous rotation isn't complete. That rotation will be reattempted."}
		}
		rot.Enabled = true
		if in.LambdaARN != nil {
			rot.LambdaARN = *in.LambdaARN
		}
		if in.Rules != nil {
			rot.Rules = *in.Rules
			rot.Configured = now
		}
		if in.Immediate {
			t := now
			rot.Requested = &t
			rot.PendingVersion = in.Token
			if rot.PendingVersion == "" {
				rot.PendingVersion = NewVersionID()
			}
		}
		r.Rotation = rot
		r.LastChanged = now
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	ref := r.ref(nil)
	if in.Immediate {
		ref.VersionID = r.Rotation.PendingVersion
	}
	return ref, nil
}

// CancelRotation disables rotation; the rules are kept. A rotation in
// progress is abandoned: its AWSPENDING version stays for inspection.
// Errors: ErrNotFound, ErrScheduledForDeletion.
func (s *Store) CancelRotation(ctx context.Context, secretID string) (*Ref, error) {
	return s.editLive(ctx, secretID, func(r *record) {
		if r.Rotation != nil {
			r.Rotation.Enabled = false
			r.Rotation.Requested = nil
		}
	})
}
