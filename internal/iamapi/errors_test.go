package iamapi

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/sigv4"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name, service string
		err           error
		status        int
		code, msg     string
	}{
		{"bad signature", "iam", &sigv4.Error{Code: sigv4.CodeInvalidSignature, Status: 400, Msg: "sig"}, 403, "SignatureDoesNotMatch", "sig"},
		{"unknown key", "sts", &sigv4.Error{Code: sigv4.CodeUnrecognizedClient, Status: 403, Msg: "bad"}, 403, "InvalidClientTokenId", "bad"},
		{"no auth", "sts", &sigv4.Error{Code: sigv4.CodeMissingAuthenticationToken, Msg: "m"}, 403, "MissingAuthenticationToken", "m"},
		{"expired", "sts", fmt.Errorf("load session: %w", identity.ErrExpiredToken), 400, "ExpiredToken",
			"The security token included in the request is expired"},
		{"denied", "iam", &iam.AccessDeniedError{PrincipalARN: "p", Action: "iam:GetUser", Resource: "r"}, 403, "AccessDenied",
			"User: p is not authorized to perform: iam:GetUser on resource: r"},
		{"internal", "iam", errors.New("secret cause"), 500, "InternalFailure", "An internal error occurred."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e := WriteError(rec, tt.service, "req-1", tt.err)
			flat, err := flatten(rec.Body.String())
			if err != nil {
				t.Fatal(err)
			}
			r := response{status: rec.Code, raw: rec.Body.String(), outcome: e.Code, flat: flat}
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d", r.status, tt.status)
			}
			if flat["ErrorResponse/RequestId"] != "req-1" {
				t.Fatalf("request id missing: %s", r.raw)
			}
			checkError(t, r, tt.code, tt.msg)
		})
	}
}

func TestBackendErr(t *testing.T) {
	user := entity{"user", "bob"}
	tests := []struct {
		name      string
		err       error
		code, msg string
	}{
		{"bare not found", identity.ErrNotFound, "NoSuchEntity", "The user with name bob cannot be found."},
		{"public message", fmt.Errorf("%w: Cannot delete entity, must delete policies first.", identity.ErrDeleteConflict),
			"DeleteConflict", "Cannot delete entity, must delete policies first."},
		// Only a direct wrap states a public message; deeper context stays internal.
		{"wrapped twice", fmt.Errorf("update users/bob: %w", fmt.Errorf("%w: detail", identity.ErrNotFound)),
			"NoSuchEntity", "The user with name bob cannot be found."},
		{"exists", identity.ErrExists, "EntityAlreadyExists", "User with name bob already exists."},
		{"limit", identity.ErrLimitExceeded, "LimitExceeded", "Limit exceeded."},
		{"malformed", fmt.Errorf("%w: Statement[0].Effect: must be Allow or Deny", identity.ErrMalformedPolicy),
			"MalformedPolicyDocument", "Statement[0].Effect: must be Allow or Deny"},
		{"too large", fmt.Errorf("%w: %w", identity.ErrMalformedPolicy, iam.ErrPolicyTooLarge), "LimitExceeded", "Cannot exceed quota for PolicySize."},
		{"invalid", identity.ErrInvalidInput, "InvalidInput", "Invalid input."},
		{"other", errors.New("boom"), "InternalFailure", "An internal error occurred."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *Error
			if !errors.As(backendErr(tt.err, user), &e) {
				t.Fatalf("not an *Error")
			}
			if e.Code != tt.code || e.Msg != tt.msg {
				t.Fatalf("got %s %q, want %s %q", e.Code, e.Msg, tt.code, tt.msg)
			}
			if !errors.Is(e, tt.err) {
				t.Error("cause lost")
			}
		})
	}
}
