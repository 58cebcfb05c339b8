package identity

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// nsOIDC holds IAM OIDC identity providers, keyed by ARN.
const nsOIDC = "iam.oidc"

// OIDCProvider is an IAM OpenID Connect identity provider.
type OIDCProvider struct {
	ARN         string    `json:"arn"` // arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH
	URL         string    `json:"url"` // https://HOST/PATH, the token's "iss"
	ClientIDs   []string  `json:"client_ids"`
	Thumbprints []string  `json:"thumbprints,omitempty"`
	CreateDate  time.Time `json:"create_date"`
	Tags        Tags      `json:"tags,omitempty"`
}

// KeyPrefix is the condition-key prefix of the provider: HOST/PATH, as in
// "HOST/PATH:sub" and "HOST/PATH:aud".
func (p *OIDCProvider) KeyPrefix() string { return strings.TrimPrefix(p.URL, "https://") }

// CreateOIDCProvider registers the issuer at rawURL (https, no query or
// fragment) with its audiences (client ids) and optional certificate
// thumbprints (40 hex digits each).
func (s *Store) CreateOIDCProvider(ctx context.Context, rawURL string, clientIDs, thumbprints []string, tags ...Tag) (*OIDCProvider, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errf(ErrInvalidInput, "Url must be an https URL without query or fragment")
	}
	norm := "https://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	for _, t := range thumbprints {
		if len(t) != 40 || strings.Trim(strings.ToLower(t), "0123456789abcdef") != "" {
			return nil, errf(ErrInvalidInput, "Thumbprints must be 40 hexadecimal characters")
		}
	}
	if len(clientIDs) > 100 || len(thumbprints) > 5 {
		return nil, errf(ErrLimitExceeded, "at most 100 client ids and 5 thumbprints")
	}
	if err := checkNewTags(tags); err != nil {
		return nil, err
	}
	p := &OIDCProvider{ARN: "arn:aws:iam::" + s.account + ":oidc-provider/" + strings.TrimPrefix(norm, "https://"),
		URL: norm, ClientIDs: slices.Compact(slices.Sorted(slices.Values(clientIDs))), Thumbprints: thumbprints,
		CreateDate: s.clock(), Tags: tags}
	if err := update(ctx, s.st, nsOIDC, p.ARN, true, func(*OIDCProvider) (*OIDCProvider, error) { return p, nil }); err != nil {
		return nil, err
	}
	return p, nil
}

// GetOIDCProvider returns a provider by ARN or ErrNotFound.
func (s *Store) GetOIDCProvider(ctx context.Context, arn string) (*OIDCProvider, error) {
	return get[OIDCProvider](ctx, s.st, nsOIDC, arn)
}

// ListOIDCProviders returns every provider.
func (s *Store) ListOIDCProviders(ctx context.Context) ([]*OIDCProvider, error) {
	return list[OIDCProvider](ctx, s.st, nsOIDC)
}

// DeleteOIDCProvider deletes a provider (ErrNotFound when absent).
func (s *Store) DeleteOIDCProvider(ctx context.Context, arn string) error {
	return update(ctx, s.st, nsOIDC, arn, false, func(*OIDCProvider) (*OIDCProvider, error) { return nil, nil })
}

// OIDCProviderFor returns the provider whose URL is the token issuer iss.
func (s *Store) OIDCProviderFor(ctx context.Context, iss string) (*OIDCProvider, error) {
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, ErrNotFound
	}
	return s.GetOIDCProvider(ctx, "arn:aws:iam::"+s.account+":oidc-provider/"+u.Host+strings.TrimSuffix(u.EscapedPath(), "/"))
}

// WebIdentity is a verified web identity token's subject.
type WebIdentity struct {
	Provider *OIDCProvider
	Subject  string
	Audience string // the audience that matched the provider's client ids
}

// AssumeRoleWithWebIdentity issues credentials for in.RoleARN to a
// verified web identity, if the role's trust policy allows its provider
// (a {"Federated": ARN} principal) to sts:AssumeRoleWithWebIdentity, with
// the condition keys PROVIDER:sub and PROVIDER:aud.
func (s *Store) AssumeRoleWithWebIdentity(ctx context.Context, id WebIdentity, in AssumeInput) (*Session, Credentials, error) {
	caller := &iam.Principal{ARN: id.Provider.ARN, Federated: id.Provider.ARN}
	pre := strings.ToLower(id.Provider.KeyPrefix())
	keys := map[string][]string{pre + ":sub": {id.Subject}, pre + ":aud": {id.Audience}}
	return s.assumeAs(ctx, caller, "sts:AssumeRoleWithWebIdentity", keys, in)
}
