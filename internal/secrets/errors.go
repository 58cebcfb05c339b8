package secrets

import "errors"

// Errors returned by Store. The API layer maps them to Secrets Manager
// exceptions; none of them ever carries a secret value.
var (
	// ErrNotFound: no secret matches the id.
	ErrNotFound = errors.New("secret not found")
	// ErrExists: CreateSecret for a name that is taken.
	ErrExists = errors.New("secret already exists")
	// ErrScheduledForDeletion: the secret is marked for deletion and the
	// operation needs a live secret (or, for Create, the name is still
	// held by a secret scheduled for deletion).
	ErrScheduledForDeletion = errors.New("secret is scheduled for deletion")
	// ErrVersionExists: a ClientRequestToken names an existing version whose
	// value differs from the request's.
	ErrVersionExists = errors.New("secret version exists with a different value")
	// ErrStageMismatch: both VersionId and VersionStage were given and the
	// stage is not attached to that version.
	ErrStageMismatch = errors.New("version stage not attached to version")
	// ErrDecrypt: a stored value failed authentication or its key term is
	// missing from the keyring.
	ErrDecrypt = errors.New("secret value cannot be decrypted")
)

// VersionNotFoundError reports a missing version: by VersionID when one
// was asked for, else by Stage. errors.Is(err, ErrNotFound) holds.
type VersionNotFoundError struct {
	VersionID string
	Stage     string
}

func (e *VersionNotFoundError) Error() string {
	if e.VersionID != "" {
		return "secret version " + e.VersionID + " not found"
	}
	return "no secret version with stage " + e.Stage
}

// Is makes VersionNotFoundError match ErrNotFound.
func (e *VersionNotFoundError) Is(target error) bool { return target == ErrNotFound }

// ParamError is an invalid parameter value or combination
// (InvalidParameterException). Msg is safe to show to the client.
type ParamError struct{ Msg string }

func (e *ParamError) Error() string { return e.Msg }

// RequestError is a request that is invalid for the secret's current state
// (InvalidRequestException). Msg is safe to show to the client.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }
