package authn

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/proxy"
)

// ErrTokenRejected is returned by VerifyDBToken for a token that is not a
// valid, allowed IAM database auth token.
var ErrTokenRejected = errors.New("IAM authentication token rejected")

var _ proxy.TokenVerifier = (*Authenticator)(nil)

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
func (a *Authenticator) VerifyDBToken(ctx context.Context, token, cluster, user string) error {
	id, q, err := a.verifier.VerifyPresigned(ctx, http.MethodGet, token)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenRejected, err)
	}
	if id.Service != "rds-db" || q.Get("Action") != "connect" || q.Get("DBUser") != user {
		return fmt.Errorf("%w: not a connect token for user %q", ErrTokenRejected, user)
	}
	if !proxy.TokenHostOK(ctx, proxy.TokenHost(token)) {
		return fmt.Errorf("%w: token generated for %q, a host:port this proxy does not answer to", ErrTokenRejected, proxy.TokenHost(token))
	}
	if id.Region != a.cfg.Region {
		return fmt.Errorf("%w: token signed for region %q, not %q", ErrTokenRejected, id.Region, a.cfg.Region)
	}
	p, err := a.Principal(ctx, id.AccessKeyID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenRejected, err)
	}
	info := iam.RequestInfoFrom(ctx)
	info.Region = id.Region
	actx := iam.WithPrincipal(ctx, p, info)
	resource := "arn:aws:rds-db:" + a.cfg.Region + ":" + a.cfg.Account + ":dbuser:" + cluster + "/" + user
	if err := (identity.Authorizer{Store: a.cfg.Identities}).Authorize(actx, "rds-db:connect", resource); err != nil {
		return fmt.Errorf("%w: %w", ErrTokenRejected, err)
	}
	return nil
}
