package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/iamapi"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/sigv4"
)

// secretKey is the SigV4 key store: the root key, then IAM users' keys and
// STS sessions.
func (s *Server) secretKey(ctx context.Context, akid string) (string, string, error) {
	if akid == s.root.AccessKeyID {
		return s.root.SecretAccessKey, "", nil
	}
	secret, token, err := s.ids.SecretKey(ctx, akid)
	if errors.Is(err, identity.ErrNotFound) {
		return "", "", sigv4.ErrUnknownKey
	}
	return secret, token, err
}

// principal returns the principal of a verified access key.
func (s *Server) principal(ctx context.Context, akid string) (*iam.Principal, error) {
	if akid == s.root.AccessKeyID {
		return &iam.Principal{ARN: s.rootARN, AccessKeyID: akid, Root: true, UserID: s.cfg.AccountID}, nil
	}
	return s.ids.Principal(ctx, akid)
}

// authError maps an authentication failure to the AWS error for service.
func (s *Server) authError(err error, service string) error {
	status := http.StatusForbidden
	if service == "secretsmanager" {
		status = http.StatusBadRequest
	}
	var se *sigv4.Error
	switch {
	case errors.Is(err, identity.ErrExpiredToken):
		return awserr.Wrap("ExpiredTokenException", status, "The security token included in the request is expired", err)
	case errors.As(err, &se):
		return awserr.Wrap(se.Code, status, se.Msg, err)
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, sigv4.ErrUnknownKey):
		return awserr.Wrap(sigv4.CodeUnrecognizedClient, status, "The security token included in the request is invalid.", err)
	}
	return awserr.ErrInternal(err)
}

// writeQueryError writes an authentication error (already mapped by
// authError) as a Query-protocol XML ErrorResponse for IAM and STS
// clients, in the namespace of the service the request was signed for.
func writeQueryError(w http.ResponseWriter, r *http.Request, requestID string, err error) string {
	e := awserr.As(err)
	service := "iam"
	if a, perr := sigv4.ParseAuthorization(r.Header.Get("Authorization")); perr == nil && a.Service == "sts" {
		service = "sts"
	}
	return iamapi.WriteError(w, service, requestID, iamapi.NewError(iamapi.QueryCode(e.Code), e.Status, e.Msg)).Code
}

// ErrTokenRejected is returned by VerifyDBToken for a token that is not a
// valid, allowed IAM database auth token.
var ErrTokenRejected = errors.New("IAM authentication token rejected")

// VerifyDBToken checks an IAM database auth token (`aws rds
// generate-db-auth-token`): a SigV4-presigned "Action=connect&DBUser=USER"
// URL for service rds-db in this endpoint's region, signed by a valid key
// at most 15 minutes ago (X-Amz-Expires over 900 is refused), whose
// principal may rds-db:connect to
// arn:aws:rds-db:REGION:ACCOUNT:dbuser:CLUSTER/USER, evaluated with the
// client connection's address and transport that the proxy put in ctx
// (iam.RequestInfoFrom). The token's host:port must be one the proxy
// answers to (proxy.TokenHostOK).
// (AWS names the cluster by its resource id; sqlgate uses the cluster name.)
func (s *Server) VerifyDBToken(ctx context.Context, token, cluster, user string) error {
	id, q, err := s.verifier.VerifyPresigned(ctx, http.MethodGet, token)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenRejected, err)
	}
	if id.Service != "rds-db" || q.Get("Action") != "connect" || q.Get("DBUser") != user {
		return fmt.Errorf("%w: not a connect token for user %q", ErrTokenRejected, user)
	}
	if !proxy.TokenHostOK(ctx, proxy.TokenHost(token)) {
		return fmt.Errorf("%w: token generated for %q, a host:port this proxy does not answer to", ErrTokenRejected, proxy.TokenHost(token))
	}
	if id.Region != s.cfg.Region {
		return fmt.Errorf("%w: token signed for region %q, not %q", ErrTokenRejected, id.Region, s.cfg.Region)
	}
	p, err := s.principal(ctx, id.AccessKeyID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenRejected, err)
	}
	info := iam.RequestInfoFrom(ctx)
	info.Region = id.Region
	actx := iam.WithPrincipal(ctx, p, info)
	resource := "arn:aws:rds-db:" + s.cfg.Region + ":" + s.cfg.AccountID + ":dbuser:" + cluster + "/" + user
	if err := (identity.Authorizer{Store: s.ids}).Authorize(actx, "rds-db:connect", resource); err != nil {
		return fmt.Errorf("%w: %w", ErrTokenRejected, err)
	}
	return nil
}
