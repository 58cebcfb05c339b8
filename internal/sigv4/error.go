package sigv4

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Exception names AWS returns for authentication failures. Callers branch on
// Error.Code, never on Error.Msg.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
)

// Public messages, copied from AWS responses.
const (
	msgMissingToken   = "Missing Authentication Token"
	msgInvalidToken   = "The security token included in the request is invalid."
	msgSignatureWrong = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Error is an authentication failure in AWS's terms. Code is the exception
// name, Msg the public message and Status the HTTP status to answer with.
//
// Status follows the protocol of the service the request was for, because AWS
// answers the same failure differently per protocol:
//   - awsJson1.0/1.1 services (Secrets Manager; requests carry X-Amz-Target)
//     answer 400, as seen in SDK reports for Secrets Manager, Kinesis,
//     CloudWatch Logs and Cognito ("status code: 400 ... UnrecognizedClientException").
//   - restJson1 services (rds-data, like Lambda and Glacier) and the Query
//     protocol (IAM, STS) answer 403.
//
// When the service cannot be told (no usable Authorization header and no
// X-Amz-Target), Status is 403; a door that knows better calls ForService.
// The Query protocol names its codes differently (InvalidClientTokenId,
// SignatureDoesNotMatch, MissingAuthenticationToken); the IAM/STS door maps them.
type Error struct {
	Code   string
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Code + ": " + e.Msg }

// HTTPStatus returns the HTTP status code AWS answers this error with.
func (e *Error) HTTPStatus() int { return e.Status }

// ForService returns a copy of e whose Status is the one service's protocol uses.
func (e *Error) ForService(service string) *Error {
	c := *e
	c.Status = statusFor(service, false)
	return &c
}

// statusFor returns the HTTP status of an auth failure for a request to
// service; jsonTarget reports an X-Amz-Target header (awsJson protocol).
func statusFor(service string, jsonTarget bool) int {
	if jsonTarget || service == "secretsmanager" {
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

func newError(code, msg, service string, jsonTarget bool) *Error {
	return &Error{Code: code, Status: statusFor(service, jsonTarget), Msg: msg}
}

// errIncomplete is an IncompleteSignatureException before the service is known.
func errIncomplete(msg string) *Error {
	return &Error{Code: CodeIncompleteSignature, Status: http.StatusForbidden, Msg: msg}
}

// errBadPair reports an Authorization element without '='. AWS never echoes
// the header; it shows its SHA-256 so the client can match it to its own logs.
func errBadPair(h string) *Error {
	sum := sha256.Sum256([]byte(h))
	return errIncomplete("Invalid key=value pair (missing equal-sign) in Authorization header " +
		"(hashed with SHA-256 and encoded with Base64): '" + base64.StdEncoding.EncodeToString(sum[:]) + "'.")
}

// skewMessage renders AWS's clock-skew messages:
//
//	Signature expired: 20261124T073505Z is now earlier than 20261124T074005Z (20261124T074505Z - 5 min.)
//	Signature not yet current: X is still later than Y (Z + 5 min.)
func skewMessage(signed, now time.Time, skew time.Duration) string {
	if signed.Before(now) {
		return fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			stamp(signed), stamp(now.Add(-skew)), stamp(now), durationText(skew))
	}
	return fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
		stamp(signed), stamp(now.Add(skew)), stamp(now), durationText(skew))
}

// durationText writes d as AWS does ("5 min."), falling back to Go's form
// for durations that are not whole minutes.
func durationText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return d.String() + "."
}

func stamp(t time.Time) string { return t.UTC().Format(timeFormat) }

// missingParams builds the IncompleteSignatureException message AWS sends
// when Authorization lacks required elements, one sentence per element.
func missingParams(names ...string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("Authorization header requires '" + n + "' parameter.")
	}
	return b.String()
}
