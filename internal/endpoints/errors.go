package endpoints

import (
	"net/http"
	"strconv"
)

// ParamError is a request field that does not match the endpoint's
// declared params. The client gets 400 with the field named.
type ParamError struct {
	Field string // wire name: body field, query parameter, header or path parameter
	Msg   string
}

func (e *ParamError) Error() string { return e.Field + ": " + e.Msg }

// httpError is an answer to the client: a status and public message, with
// the cause kept for the log only (CONTRIBUTING.md "Errors").
type httpError struct {
	Status int
	Msg    string
	// Field names the request field at fault (400 only).
	Field string
	// RetryAfter, in seconds, sets Retry-After when > 0.
	RetryAfter int
	// Extra members of the JSON body.
	Extra map[string]any
	// Err is the internal cause, logged, never sent.
	Err error
}

func (e *httpError) Error() string {
	s := strconv.Itoa(e.Status) + " " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *httpError) Unwrap() error { return e.Err }

// forbidden is API Gateway's answer to a missing or unknown x-api-key, and
// ours to a source address outside allow_cidrs.
func forbidden(cause error) *httpError {
	return &httpError{Status: http.StatusForbidden, Msg: "Forbidden", Err: cause}
}

// public messages of generic failures, as API Gateway words them.
const (
	msgInternal    = "Internal Server Error"
	msgUnavailable = "Service Unavailable"
	msgTimeout     = "Endpoint request timed out"
)

// write sends e as {"message":…} with the field and extras.
func (e *httpError) write(w http.ResponseWriter) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	b := append([]byte(`{"message":`), appendJSONString(nil, e.Msg)...)
	if e.Field != "" {
		b = append(b, `,"field":`...)
		b = appendJSONString(b, e.Field)
	}
	for _, k := range sortedKeys(e.Extra) {
		b = append(b, ',')
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendAny(b, e.Extra[k])
	}
	b = append(b, '}')
	writeBody(w, e.Status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
