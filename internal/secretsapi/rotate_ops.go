package secretsapi

import (
	"context"
	"strconv"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

// Rotator runs the rotations RotateSecret requests. Declared here, where it
// is used; the rotation service implements it.
type Rotator interface {
	// Rotatable reports why sqlgate cannot rotate the secret (nil when it
	// can): the built-in rotation handles database secrets only.
	Rotatable(ctx context.Context, arn string) error
	// Wake makes the rotator look for requested rotations now.
	Wake()
}

// SetRotator installs the rotation service. Without one, RotateSecret
// answers InvalidRequestException.
func (a *API) SetRotator(r Rotator) { a.rotator = r }

type rotationRules struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               *string `json:"Duration,omitempty"`
	ScheduleExpression     *string `json:"ScheduleExpression,omitempty"`
}

type rotateSecretInput struct {
	SecretID           *string        `json:"SecretId"`
	ClientRequestToken *string        `json:"ClientRequestToken"`
	RotationLambdaARN  *string        `json:"RotationLambdaARN"`
	RotationRules      *rotationRules `json:"RotationRules"`
	RotateImmediately  *bool          `json:"RotateImmediately"`
}

type rotateSecretOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

func (a *API) rotateSecret(ctx context.Context, body []byte) (any, error) {
	var in rotateSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.secretID(in.SecretID)
	v.token(in.ClientRequestToken)
	v.length("rotationLambdaARN", in.RotationLambdaARN, 0, 2048)
	var rules *secrets.Rules
	if r := in.RotationRules; r != nil {
		v.length("rotationRules.duration", r.Duration, 2, 3)
		v.length("rotationRules.scheduleExpression", r.ScheduleExpression, 1, 256)
		rules = &secrets.Rules{Duration: str(r.Duration), Schedule: str(r.ScheduleExpression)}
		if d := r.AutomaticallyAfterDays; d != nil {
			rules.AfterDays = *d
			if *d == 0 {
				rules.AfterDays = -1 // rejected by ParseRules
			}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if rules != nil {
		if _, err := secrets.ParseRules(*rules); err != nil {
			return nil, err
		}
	}
	immediate := boolOr(in.RotateImmediately, true)
	k := keys{}
	put(k, "secretsmanager:rotationlambdaarn", in.RotationLambdaARN)
	put(k, "secretsmanager:rotateimmediately", &immediate)
	if rules != nil {
		k["secretsmanager:modifyrotationrules"] = []string{strconv.FormatBool(true)}
	}
	s, err := a.resolve(ctx, "RotateSecret", *in.SecretID, k)
	if err != nil {
		return nil, err
	}
	if s.Scheduled() {
		return nil, secrets.ErrScheduledForDeletion
	}
	if a.rotator == nil {
		return nil, errInvalidRequest("Rotation is not available: this server has no rotation service.")
	}
	if err := a.rotator.Rotatable(ctx, s.ARN); err != nil {
		return nil, err
	}
	if rules == nil && (s.Rotation == nil || s.Rotation.Rules == (secrets.Rules{})) && !immediate {
		return nil, errInvalidRequest("The secret has no rotation rules: specify RotationRules or RotateImmediately.")
	}
	ref, err := a.store.ConfigureRotation(ctx, secrets.ConfigureInput{
		SecretID: s.ARN, LambdaARN: in.RotationLambdaARN, Rules: rules, Immediate: immediate, Token: str(in.ClientRequestToken),
	})
	if err != nil {
		return nil, err
	}
	a.rotator.Wake()
	return rotateSecretOutput{ARN: ref.ARN, Name: ref.Name, VersionID: ref.VersionID}, nil
}

func (a *API) cancelRotateSecret(ctx context.Context, body []byte) (any, error) {
	s, err := a.resolveBody(ctx, "CancelRotateSecret", body)
	if err != nil {
		return nil, err
	}
	ref, err := a.store.CancelRotation(ctx, s.ARN)
	if err != nil {
		return nil, err
	}
	out := rotateSecretOutput{ARN: ref.ARN, Name: ref.Name}
	if s.Rotation != nil {
		out.VersionID = s.Rotation.PendingVersion
	}
	return out, nil
}
