// Package authn turns a request into a principal in one call: an AWS API
// request signed with SigV4 (Authenticator.Request), an IAM database auth
// token presented to a proxy (Authenticator.VerifyDBToken), or an access
// key pair typed into the console sign-in (Authenticator.VerifyKey). It
// knows the root key and asks internal/identity for every other key, and
// maps each failure to the AWS error a client of that service expects.
// Authorization of the action itself stays with each API (internal/iam).
package authn

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"slices"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/sigv4"
)

// Config is what an Authenticator needs.
type Config struct {
	Region  string // the region this endpoint answers for
	Account string // the account id, for the root principal's ARN
	// RootKeyID and RootSecret are the root access key pair: the account's
	// root principal, allowed everything its policies do not deny.
	RootKeyID, RootSecret string
	// Identities holds every other access key, STS session and policy.
	Identities *identity.Store
}

// Authenticator authenticates requests for every door of the process.
type Authenticator struct {
	cfg      Config
	rootARN  string
	verifier *sigv4.Verifier
}

// New returns an Authenticator over cfg.
func New(cfg Config) *Authenticator {
	a := &Authenticator{cfg: cfg, rootARN: "arn:aws:iam::" + cfg.Account + ":root"}
	a.verifier = &sigv4.Verifier{Keys: sigv4.KeyStoreFunc(a.SecretKey)}
	return a
}

// Request verifies r's SigV4 signature over body, checks that its
// credential scope names one of services (any, when none are given) and
// this endpoint's region, and returns a context carrying the principal
// and the request context (iam.RequestInfo: source address, transport,
// region, user agent, referer), plus the service signed for. secure tells
// whether r came over TLS. Every error is an *awserr.Error with the code
// and status AWS gives a client of that service.
func (a *Authenticator) Request(r *http.Request, body []byte, secure bool, services ...string) (context.Context, string, error) {
	id, err := a.verifier.Verify(r.Context(), r, body)
	if err != nil {
		return nil, "", Error(err, firstOr(services, "rds-data"))
	}
	if len(services) > 0 && !slices.Contains(services, id.Service) {
		return nil, "", awserr.New(sigv4.CodeInvalidSignature, status(services[0]),
			"Credential should be scoped to correct service: '"+services[0]+"'. ")
	}
	if !a.regionOK(id.Region, id.Service) {
		return nil, "", awserr.New(sigv4.CodeInvalidSignature, status(id.Service), "Credential should be scoped to a valid region. ")
	}
	p, err := a.Principal(r.Context(), id.AccessKeyID)
	if err != nil {
		return nil, "", Error(err, id.Service)
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	info := iam.RequestInfo{SourceIP: host, Secure: secure, Region: id.Region, UserAgent: r.UserAgent(), Referer: r.Referer()}
	return iam.WithPrincipal(r.Context(), p, info), id.Service, nil
}

// regionOK reports whether a credential scope's region is one this
// endpoint answers for, as AWS checks it: the configured region, and for
// the global services IAM and STS also us-east-1 (what SDKs sign them
// for without a region).
func (a *Authenticator) regionOK(region, service string) bool {
	if region == a.cfg.Region {
		return true
	}
	return region == "us-east-1" && (service == "iam" || service == "sts")
}

// SecretKey is the SigV4 key store: the root key, then IAM users' keys
// and STS sessions. An unknown key is sigv4.ErrUnknownKey.
func (a *Authenticator) SecretKey(ctx context.Context, akid string) (secret, token string, err error) {
	if akid == a.cfg.RootKeyID {
		return a.cfg.RootSecret, "", nil
	}
	secret, token, err = a.cfg.Identities.SecretKey(ctx, akid)
	if errors.Is(err, identity.ErrNotFound) {
		return "", "", sigv4.ErrUnknownKey
	}
	return secret, token, err
}

// Principal returns the principal of a verified access key.
func (a *Authenticator) Principal(ctx context.Context, akid string) (*iam.Principal, error) {
	if akid == a.cfg.RootKeyID {
		return &iam.Principal{ARN: a.rootARN, AccessKeyID: akid, Root: true, UserID: a.cfg.Account}, nil
	}
	return a.cfg.Identities.Principal(ctx, akid)
}

// ErrBadCredentials is VerifyKey's answer to a key pair that does not
// sign in: unknown, wrong secret or session token, or expired.
var ErrBadCredentials = errors.New("the access key, secret key or session token is not valid")

// VerifyKey checks an access key pair (and session token, for temporary
// credentials) typed by a person rather than used to sign, comparing in
// constant time, and returns its principal: the same keys that sign API
// requests sign in to the console.
func (a *Authenticator) VerifyKey(ctx context.Context, akid, secret, token string) (*iam.Principal, error) {
	want, wantToken, err := a.SecretKey(ctx, akid)
	switch {
	case errors.Is(err, sigv4.ErrUnknownKey), identity.IsAuthError(err):
		return nil, ErrBadCredentials
	case err != nil:
		return nil, err
	}
	okSecret := subtle.ConstantTimeCompare([]byte(secret), []byte(want))
	okToken := subtle.ConstantTimeCompare([]byte(token), []byte(wantToken))
	if okSecret&okToken != 1 {
		return nil, ErrBadCredentials
	}
	p, err := a.Principal(ctx, akid)
	if identity.IsAuthError(err) {
		return nil, ErrBadCredentials
	}
	return p, err
}

// Error maps an authentication failure to the AWS error for service:
// Secrets Manager answers 400, the other services 403.
func Error(err error, service string) error {
	st := status(service)
	var se *sigv4.Error
	switch {
	case errors.Is(err, identity.ErrExpiredToken):
		return awserr.Wrap("ExpiredTokenException", st, "The security token included in the request is expired", err)
	case errors.As(err, &se):
		return awserr.Wrap(se.Code, st, se.Msg, err)
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, sigv4.ErrUnknownKey):
		return awserr.Wrap(sigv4.CodeUnrecognizedClient, st, "The security token included in the request is invalid.", err)
	}
	return awserr.ErrInternal(err)
}

// status is the HTTP status of an authentication failure for service.
func status(service string) int {
	if service == "secretsmanager" {
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}
