// Package secretsapi serves the AWS Secrets Manager API (awsJson1.1:
// POST / with X-Amz-Target: secretsmanager.<Op>) over a secrets.Store, so
// the aws CLI and SDKs work against sqlgate unchanged.
//
// Authentication happens before this package: the server verifies the
// SigV4 signature and puts the principal in the request context
// (iam.WithPrincipal). Every operation is then authorized with
// iam.Authorizer against the secret's ARN.
//
// Protocol: https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
// API: https://docs.aws.amazon.com/secretsmanager/latest/apireference/
package secretsapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/arn"
	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

// ContentType is the media type of every request and response.
const ContentType = "application/x-amz-json-1.1"

// TargetPrefix prefixes the operation name in X-Amz-Target.
const TargetPrefix = "secretsmanager."

// MaxBodyBytes bounds a request body read by ServeHTTP.
const MaxBodyBytes = 1 << 20

// API is the Secrets Manager HTTP API.
type API struct {
	store *secrets.Store
	authz iam.Authorizer
	log   *slog.Logger
	ops   map[string]opFunc
	// policies caches compiled resource policies by document.
	policies policyCache
	// rotator runs requested rotations; nil when rotation is unavailable.
	rotator Rotator
}

// opFunc runs one operation on a raw JSON body and returns the response
// object.
type opFunc func(ctx context.Context, body []byte) (any, error)

var _ http.Handler = (*API)(nil)

// New returns the API over store, authorizing with authz. log defaults to
// slog.Default().
func New(store *secrets.Store, authz iam.Authorizer, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	a := &API{store: store, authz: authz, log: log.With("component", "secretsapi")}
	a.ops = map[string]opFunc{
		"CreateSecret":             a.createSecret,
		"GetSecretValue":           a.getSecretValue,
		"PutSecretValue":           a.putSecretValue,
		"UpdateSecret":             a.updateSecret,
		"DescribeSecret":           a.describeSecret,
		"ListSecrets":              a.listSecrets,
		"ListSecretVersionIds":     a.listSecretVersionIDs,
		"DeleteSecret":             a.deleteSecret,
		"RestoreSecret":            a.restoreSecret,
		"TagResource":              a.tagResource,
		"UntagResource":            a.untagResource,
		"UpdateSecretVersionStage": a.updateSecretVersionStage,
		"GetRandomPassword":        a.getRandomPassword,
		"BatchGetSecretValue":      a.batchGetSecretValue,
		"GetResourcePolicy":        a.getResourcePolicy,
		"PutResourcePolicy":        a.putResourcePolicy,
		"DeleteResourcePolicy":     a.deleteResourcePolicy,
		"ValidateResourcePolicy":   a.validateResourcePolicy,
		"RotateSecret":             a.rotateSecret,
		"CancelRotateSecret":       a.cancelRotateSecret,
	}
	return a
}

// ServeHTTP reads the body and routes on X-Amz-Target. The principal must
// already be in r's context.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		a.finish(w, r, "", newRequestID(), time.Now(), nil, errSerialization(fmt.Errorf("read body: %w", err)))
		return
	}
	a.Serve(w, door.Request{HTTP: r, Op: r.Header.Get("X-Amz-Target"), Body: body, ID: newRequestID()})
}

var _ door.Handler = (*API)(nil)

// Serve runs operation req.Op ("GetSecretValue" or
// "secretsmanager.GetSecretValue") on an already read and verified body
// and writes the response: 200 with the JSON result, or an AWS error
// envelope. It returns the outcome for the access log.
func (a *API) Serve(w http.ResponseWriter, req door.Request) door.Outcome {
	start := time.Now()
	op := strings.TrimPrefix(req.Op, TargetPrefix)
	fn, ok := a.ops[op]
	if !ok {
		return a.finish(w, req.HTTP, op, req.ID, start, nil, errUnknownOperation(op))
	}
	out, err := a.run(req.HTTP.Context(), fn, req.Body)
	return a.finish(w, req.HTTP, op, req.ID, start, out, err)
}

func (a *API) run(ctx context.Context, fn opFunc, body []byte) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, errInternal(fmt.Errorf("BUG: panic: %v", p))
		}
	}()
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return fn(ctx, body)
}

// finish writes the response and logs the request once. Bodies are never
// logged: they carry secret values.
func (a *API) finish(w http.ResponseWriter, r *http.Request, op, reqID string, start time.Time, out any, err error) door.Outcome {
	if reqID == "" {
		reqID = newRequestID()
	}
	var resp []byte
	if err == nil {
		resp, err = json.Marshal(out)
		if err != nil {
			err = errInternal(fmt.Errorf("encode response: %w", err))
		}
	}
	status, code := http.StatusOK, ""
	if err != nil {
		e := awserr.Write(typedWriter{w}, reqID, toAPIError(err))
		status, code = e.Status, e.Code
		err = e
	} else {
		h := w.Header()
		h.Set("Content-Type", ContentType)
		h.Set("X-Amzn-RequestId", reqID)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(resp)
	}
	principal := ""
	if p := iam.PrincipalFrom(r.Context()); p != nil {
		principal = p.ARN
	}
	attrs := []any{"op", op, "status", status, "request_id", reqID, "principal", principal, "dur", time.Since(start)}
	switch {
	case status >= 500:
		a.log.Error("request failed", append(attrs, "code", code, "err", err)...)
	case status >= 400:
		a.log.Info("request rejected", append(attrs, "code", code)...)
	default:
		a.log.Debug("request", attrs...)
	}
	if code == "" {
		return door.OK
	}
	return door.Outcome{Code: code}
}

// typedWriter makes awserr.Write answer with the awsJson1.1 content type.
type typedWriter struct{ http.ResponseWriter }

func (w typedWriter) WriteHeader(code int) {
	w.Header().Set("Content-Type", ContentType)
	w.ResponseWriter.WriteHeader(code)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// decode unmarshals body into v, mapping failures to SerializationException.
// The JSON error is reduced to its kind and offset: a syntax error message
// may quote bytes of a secret value.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errSerialization(fmt.Errorf("json syntax error at offset %d", se.Offset))
		case errors.As(err, &te):
			return errSerialization(fmt.Errorf("json type error at member %q", te.Field))
		}
		return errSerialization(errors.New("invalid json"))
	}
	return nil
}

// authorize checks action secretsmanager:<op> on resource.
func (a *API) authorize(ctx context.Context, op, resource string) error {
	return a.authz.Authorize(ctx, "secretsmanager:"+op, resource)
}

// impliedARN is the ARN a SecretId stands for when no secret matches it: the
// id itself if it is an ARN, else the partial ARN of the name.
func (a *API) impliedARN(id string) string {
	if arn.IsARN(id) {
		return id
	}
	return arn.ARN{Partition: "aws", Service: "secretsmanager", Region: a.store.Region(), Account: a.store.Account(), Resource: "secret:" + id}.String()
}
