// Package awserr is the AWS error envelope shared by every AWS-compatible
// HTTP API of sqlgate (rds-data restJson1, Secrets Manager awsJson1.1).
//
// Every SDK reads the error code from the x-amzn-ErrorType header or the body's
// __type member (Go lets the body win), so both are always written and agree.
// The client sees Msg; Err (the cause) goes only to logs.
package awserr

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is an AWS API error: Code is the exception name ("BadRequestException").
type Error struct {
	Code   string
	Status int
	Msg    string
	// Extra members added to the JSON body (e.g. dbConnectionId).
	Extra map[string]any
	// Err is the internal cause, logged but never sent to the client.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Fault is the side the Query-protocol APIs (IAM, STS, RDS) report in an
// error's <Type>: Sender for client errors, Receiver for server errors.
func (e *Error) Fault() string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// New returns an Error with code, HTTP status and public message.
func New(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Msg: msg}
}

// Wrap is New with an internal cause.
func Wrap(code string, status int, msg string, cause error) *Error {
	return &Error{Code: code, Status: status, Msg: msg, Err: cause}
}

// Errors that every AWS JSON API shares.
var (
	ErrInternal = func(cause error) *Error {
		return Wrap("InternalFailure", http.StatusInternalServerError, "An internal error occurred.", cause)
	}
)

// As extracts an *Error from err, or wraps err as an internal failure.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternal(err)
}

// Write sends err as an AWS JSON error response: status, x-amzn-ErrorType
// header and {"__type":…,"message":…} body. It returns the *Error written.
func Write(w http.ResponseWriter, requestID string, err error) *Error {
	e := As(err)
	body := make(map[string]any, 2+len(e.Extra))
	for k, v := range e.Extra {
		body[k] = v
	}
	body["__type"] = e.Code
	body["message"] = e.Msg
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.Code)
	if requestID != "" {
		h.Set("X-Amzn-RequestId", requestID)
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
	return e
}
