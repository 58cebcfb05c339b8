package iamapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/awsquery"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/sigv4"
)

// Error is an IAM or STS error as the Query protocol reports it: Code is
// AWS's error code ("NoSuchEntity"), Msg the public message, Err the
// internal cause (logged, never sent). It is the one AWS error type of
// internal/awserr; the Query envelope is written by writeError.
type Error = awserr.Error

// NewError returns an Error with code, HTTP status and public message.
func NewError(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Msg: msg}
}

// Error codes and their HTTP status (botocore iam/sts service-2.json).
func errNoSuchEntity(msg string) *Error { return NewError("NoSuchEntity", http.StatusNotFound, msg) }
func errExists(msg string) *Error       { return NewError("EntityAlreadyExists", http.StatusConflict, msg) }
func errLimit(msg string) *Error        { return NewError("LimitExceeded", http.StatusConflict, msg) }
func errDeleteConflict(msg string) *Error {
	return NewError("DeleteConflict", http.StatusConflict, msg)
}
func errMalformedPolicy(msg string) *Error {
	return NewError("MalformedPolicyDocument", http.StatusBadRequest, msg)
}
func errValidation(msg string) *Error   { return NewError("ValidationError", http.StatusBadRequest, msg) }
func errInvalidInput(msg string) *Error { return NewError("InvalidInput", http.StatusBadRequest, msg) }
func errInvalidAction(msg string) *Error {
	return NewError("InvalidAction", http.StatusBadRequest, msg)
}
func errAccessDenied(msg string) *Error { return NewError("AccessDenied", http.StatusForbidden, msg) }
func errInternal(cause error) *Error {
	return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Msg: "An internal error occurred.", Err: cause}
}

// errExpiredToken is what AWS answers for temporary credentials past
// their expiry.
func errExpiredToken(cause error) *Error {
	return &Error{Code: "ExpiredToken", Status: http.StatusBadRequest,
		Msg: "The security token included in the request is expired", Err: cause}
}

// entity names what an operation acts on, so that a bare sentinel from the
// Backend becomes AWS's message ("The user with name bob cannot be found.").
type entity struct {
	kind string // user | role | policy | key
	name string // name, ARN or access key id
}

func (e entity) notFound() string {
	switch e.kind {
	case "role":
		return "The role with name " + e.name + " cannot be found."
	case "group":
		return "The group with name " + e.name + " cannot be found."
	case "policy":
		return "Policy " + e.name + " was not found."
	case "key":
		return "The Access Key with id " + e.name + " cannot be found."
	}
	return "The user with name " + e.name + " cannot be found."
}

func (e entity) exists() string {
	switch e.kind {
	case "role":
		return "Role with name " + e.name + " already exists."
	case "group":
		return "Group with name " + e.name + " already exists."
	case "policy":
		return "A policy called " + e.name + " already exists. Duplicate names are not allowed."
	}
	return "User with name " + e.name + " already exists."
}

// backendErr maps an error of the Backend to an IAM error. Backends state
// AWS's public message by wrapping a sentinel directly:
// fmt.Errorf("%w: Cannot delete entity, must delete access keys first.",
// identity.ErrDeleteConflict); otherwise the message comes from e.
func backendErr(err error, e entity) error {
	var apiErr *Error
	var denied *iam.AccessDeniedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &denied):
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Msg: denied.Error(), Err: err}
	case errors.Is(err, identity.ErrNotFound):
		return wrapMsg(errNoSuchEntity, err, identity.ErrNotFound, e.notFound())
	case errors.Is(err, identity.ErrExists):
		return wrapMsg(errExists, err, identity.ErrExists, e.exists())
	case errors.Is(err, identity.ErrLimitExceeded):
		return wrapMsg(errLimit, err, identity.ErrLimitExceeded, "Limit exceeded.")
	case errors.Is(err, identity.ErrDeleteConflict):
		return wrapMsg(errDeleteConflict, err, identity.ErrDeleteConflict, "Cannot delete entity, must remove referring entities first.")
	case errors.Is(err, iam.ErrPolicyTooLarge):
		// IAM reports size quotas as LimitExceeded, not as malformed.
		return &Error{Code: "LimitExceeded", Status: http.StatusConflict, Msg: "Cannot exceed quota for PolicySize.", Err: err}
	case errors.Is(err, identity.ErrMalformedPolicy):
		return wrapMsg(errMalformedPolicy, err, identity.ErrMalformedPolicy, "Syntax errors in policy.")
	case errors.Is(err, identity.ErrInvalidInput):
		return wrapMsg(errInvalidInput, err, identity.ErrInvalidInput, "Invalid input.")
	case errors.Is(err, identity.ErrExpiredToken):
		return errExpiredToken(err)
	}
	return errInternal(err)
}

// wrapMsg builds the error with the public message the backend attached to
// sentinel, or def when it attached none.
func wrapMsg(mk func(string) *Error, err, sentinel error, def string) *Error {
	msg := def
	if errors.Unwrap(err) == sentinel {
		if rest, ok := strings.CutPrefix(err.Error(), sentinel.Error()+": "); ok && rest != "" {
			msg = rest
		}
	}
	e := mk(msg)
	e.Err = err
	return e
}

// sigv4Codes maps the authentication failures of internal/sigv4 (named
// as the JSON protocols name them) to the Query protocol's codes.
var sigv4Codes = map[string]string{
	sigv4.CodeMissingAuthenticationToken: "MissingAuthenticationToken",
	sigv4.CodeIncompleteSignature:        "IncompleteSignature",
	sigv4.CodeInvalidSignature:           "SignatureDoesNotMatch",
	sigv4.CodeUnrecognizedClient:         "InvalidClientTokenId",
	"ExpiredTokenException":              "ExpiredToken",
}

// QueryCode returns the Query-protocol name of an authentication error
// code as the JSON protocols name it (UnrecognizedClientException →
// InvalidClientTokenId, …); other codes are returned unchanged.
func QueryCode(code string) string {
	if c, ok := sigv4Codes[code]; ok {
		return c
	}
	return code
}

// toError converts any error to an *Error: SigV4 failures get their Query
// protocol codes (HTTP 403), Backend sentinels their IAM codes, anything
// else is an internal failure.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &Error{Code: QueryCode(se.Code), Status: http.StatusForbidden, Msg: se.Msg, Err: err}
	}
	if errors.As(backendErr(err, entity{}), &e) {
		return e
	}
	return errInternal(err)
}

// WriteError writes err as an ErrorResponse of service ("iam" or "sts") and
// returns the *Error written. The server uses it for failures before
// Handle, so those also reach the client as XML: a *sigv4.Error becomes
// InvalidClientTokenId, SignatureDoesNotMatch, … (403) and
// identity.ErrExpiredToken becomes ExpiredToken.
func WriteError(w http.ResponseWriter, service, requestID string, err error) *Error {
	e := toError(err)
	awsquery.WriteError(w, namespace(service), requestID, e)
	return e
}
