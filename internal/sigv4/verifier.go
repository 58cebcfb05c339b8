// Package sigv4 verifies AWS Signature Version 4 on incoming requests: the
// Authorization header of rds-data, Secrets Manager and IAM/STS calls, and
// presigned URLs such as the IAM auth tokens of `aws rds generate-db-auth-token`.
//
// The algorithm is specified at
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
// and tested against captured requests of botocore, the AWS CLI, the Go SDK v2
// and the JS SDKs v2 and v3 (testdata/captures). Failures are *Error values
// carrying AWS's exception names and messages.
//
// Verify proves who signed a request and that the request is fresh; it does
// not decide what the signer may do. Callers check Identity.Service and
// Identity.Region against the door the request came through, then ask iam.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// timeFormat is the ISO 8601 basic form of X-Amz-Date.
const timeFormat = "20060102T150405Z"

const defaultMaxSkew = 5 * time.Minute

// unsignedPayload in X-Amz-Content-Sha256 means the body is not signed.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// ErrUnknownKey is returned by a KeyStore for an access key id it does not hold.
var ErrUnknownKey = errors.New("unknown access key")

// errNoKeyStore is a configuration bug: a Verifier built without Keys.
var errNoKeyStore = errors.New("look up access key: verifier has no KeyStore")

// KeyStore looks up the secret for an access key id.
type KeyStore interface {
	// SecretKey returns the secret access key for akid, the session token that
	// must accompany it ("" for long-term keys), or ErrUnknownKey.
	SecretKey(ctx context.Context, akid string) (secret string, sessionToken string, err error)
}

// KeyStoreFunc adapts a function to KeyStore.
type KeyStoreFunc func(ctx context.Context, akid string) (string, string, error)

// SecretKey calls f.
func (f KeyStoreFunc) SecretKey(ctx context.Context, akid string) (string, string, error) {
	return f(ctx, akid)
}

var _ KeyStore = KeyStoreFunc(nil)

// Verifier checks SigV4 signatures against the keys in Keys. It is safe for
// concurrent use; the zero value of Now and MaxSkew means time.Now and 5 minutes.
type Verifier struct {
	Keys    KeyStore
	Now     func() time.Time // nil = time.Now
	MaxSkew time.Duration    // 0 = 5 minutes; negative is treated as 0 skew allowed

	cache keyCache
}

// Identity is what a verified request proved.
type Identity struct {
	AccessKeyID, Region, Service, SessionToken string
	SignedAt                                   time.Time
}

// claim is a parsed signature waiting to be checked against the key store.
type claim struct {
	in         signingInput
	akid       string
	sig        string
	token      string // X-Amz-Security-Token the client sent
	signedAt   time.Time
	jsonTarget bool // request is awsJson (X-Amz-Target), which answers 400
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	switch {
	case v.MaxSkew == 0:
		return defaultMaxSkew
	case v.MaxSkew < 0:
		return 0
	}
	return v.MaxSkew
}

// checkSkew rejects a signing time further than MaxSkew from now.
func (v *Verifier) checkSkew(c *claim) error {
	now, skew := v.now(), v.maxSkew()
	if c.signedAt.Before(now.Add(-skew)) || c.signedAt.After(now.Add(skew)) {
		return c.fail(CodeInvalidSignature, skewMessage(c.signedAt, now, skew))
	}
	return nil
}

func (c *claim) fail(code, msg string) *Error {
	return newError(code, msg, c.in.service, c.jsonTarget)
}

// verify looks up the key, checks the session token and compares signatures.
// Time checks are done before, so stale requests never reach the key store.
func (v *Verifier) verify(ctx context.Context, c *claim) (*Identity, error) {
	if v.Keys == nil {
		return nil, errNoKeyStore
	}
	secret, token, err := v.Keys.SecretKey(ctx, c.akid)
	if errors.Is(err, ErrUnknownKey) {
		return nil, c.fail(CodeUnrecognizedClient, msgInvalidToken)
	}
	if err != nil {
		return nil, fmt.Errorf("look up access key: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(c.token)) != 1 {
		return nil, c.fail(CodeUnrecognizedClient, msgInvalidToken)
	}
	key := v.cache.signingKey(secret, c.in.date, c.in.region, c.in.service)
	want, err := c.in.signature(key[:])
	if err != nil {
		return nil, c.fail(CodeInvalidSignature, msgSignatureWrong)
	}
	var got [sha256.Size]byte
	if n, err := hex.Decode(got[:], []byte(c.sig)); err != nil || n != len(got) || !hmac.Equal(got[:], want[:]) {
		return nil, c.fail(CodeInvalidSignature, msgSignatureWrong)
	}
	return &Identity{
		AccessKeyID:  c.akid,
		Region:       c.in.region,
		Service:      c.in.service,
		SessionToken: token,
		SignedAt:     c.signedAt,
	}, nil
}

// payloadHash returns the hash the client signed for body: the
// X-Amz-Content-Sha256 value when sent (it must match the body), else the
// SHA-256 of body, as botocore signs it. UNSIGNED-PAYLOAD is refused: AWS
// honours it only for S3 uploads, and a signature that does not cover the
// body could be replayed with another body.
func payloadHash(declared string, body []byte) (string, bool) {
	if declared == unsignedPayload {
		return "", false
	}
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	if declared == "" {
		return actual, true
	}
	return declared, subtle.ConstantTimeCompare([]byte(declared), []byte(actual)) == 1
}
