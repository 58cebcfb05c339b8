package iamapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/oidc"
)

// OIDCBackend is what OIDC identity providers and
// AssumeRoleWithWebIdentity need of the identity store.
type OIDCBackend interface {
	CreateOIDCProvider(ctx context.Context, url string, clientIDs, thumbprints []string, tags ...identity.Tag) (*identity.OIDCProvider, error)
	GetOIDCProvider(ctx context.Context, arn string) (*identity.OIDCProvider, error)
	ListOIDCProviders(ctx context.Context) ([]*identity.OIDCProvider, error)
	DeleteOIDCProvider(ctx context.Context, arn string) error
	OIDCProviderFor(ctx context.Context, iss string) (*identity.OIDCProvider, error)
	AssumeRoleWithWebIdentity(ctx context.Context, id identity.WebIdentity, in identity.AssumeInput) (*identity.Session, identity.Credentials, error)
}

// EnableWebIdentity adds the IAM OIDC provider actions and STS
// AssumeRoleWithWebIdentity, verifying tokens with keys.
func (a *API) EnableWebIdentity(b OIDCBackend, keys *oidc.Keys) {
	w := &webIdentity{a: a, b: b, keys: keys}
	a.ops["iam"]["CreateOpenIDConnectProvider"] = w.create
	a.ops["iam"]["GetOpenIDConnectProvider"] = w.get
	a.ops["iam"]["ListOpenIDConnectProviders"] = w.list
	a.ops["iam"]["DeleteOpenIDConnectProvider"] = w.delete
	a.ops["sts"]["AssumeRoleWithWebIdentity"] = w.assume
}

type webIdentity struct {
	a    *API
	b    OIDCBackend
	keys *oidc.Keys
}

type createOIDCResult struct {
	ARN  string           `xml:"OpenIDConnectProviderArn"`
	Tags *members[tagXML] `xml:"Tags,omitempty"`
}

func (w *webIdentity) create(ctx context.Context, f *form) (any, error) {
	url := f.required("Url")
	f.check("Url", url, 1, 255, nil)
	clients, thumbs, tags := f.list("ClientIDList"), f.list("ThumbprintList"), readTags(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := w.a.authorize(ctx, "CreateOpenIDConnectProvider", w.a.arn("oidc-provider", "/", strings.TrimPrefix(url, "https://"))); err != nil {
		return nil, err
	}
	p, err := w.b.CreateOIDCProvider(ctx, url, clients, thumbs, tags...)
	if err != nil {
		return nil, backendErr(err, entity{"OpenIDConnectProvider", url})
	}
	return &createOIDCResult{ARN: p.ARN, Tags: toTags(p.Tags)}, nil
}

type getOIDCResult struct {
	URL         string           `xml:"Url"`
	ClientIDs   members[string]  `xml:"ClientIDList"`
	Thumbprints members[string]  `xml:"ThumbprintList"`
	CreateDate  *isoTime         `xml:"CreateDate"`
	Tags        *members[tagXML] `xml:"Tags,omitempty"`
}

func (w *webIdentity) get(ctx context.Context, f *form) (any, error) {
	arn := f.required("OpenIDConnectProviderArn")
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := w.a.authorize(ctx, "GetOpenIDConnectProvider", arn); err != nil {
		return nil, err
	}
	p, err := w.b.GetOIDCProvider(ctx, arn)
	if err != nil {
		return nil, backendErr(err, entity{"OpenIDConnectProvider", arn})
	}
	return &getOIDCResult{URL: p.KeyPrefix(), ClientIDs: list(p.ClientIDs), Thumbprints: list(p.Thumbprints),
		CreateDate: optTime(p.CreateDate), Tags: toTags(p.Tags)}, nil
}

type oidcARN struct {
	ARN string `xml:"Arn"`
}

type listOIDCResult struct {
	Providers members[oidcARN] `xml:"OpenIDConnectProviderList"`
}

func (w *webIdentity) list(ctx context.Context, _ *form) (any, error) {
	if err := w.a.authorize(ctx, "ListOpenIDConnectProviders", "*"); err != nil {
		return nil, err
	}
	ps, err := w.b.ListOIDCProviders(ctx)
	if err != nil {
		return nil, backendErr(err, entity{})
	}
	out := make([]oidcARN, 0, len(ps))
	for _, p := range ps {
		out = append(out, oidcARN{p.ARN})
	}
	return &listOIDCResult{Providers: list(out)}, nil
}

func (w *webIdentity) delete(ctx context.Context, f *form) (any, error) {
	arn := f.required("OpenIDConnectProviderArn")
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := w.a.authorize(ctx, "DeleteOpenIDConnectProvider", arn); err != nil {
		return nil, err
	}
	if err := w.b.DeleteOIDCProvider(ctx, arn); err != nil {
		return nil, backendErr(err, entity{"OpenIDConnectProvider", arn})
	}
	return nil, nil
}

type webIdentityResult struct {
	Credentials     credentialsXML     `xml:"Credentials"`
	Subject         string             `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser assumedRoleUserXML `xml:"AssumedRoleUser"`
	Provider        string             `xml:"Provider"`
	Audience        string             `xml:"Audience"`
	SourceIdentity  string             `xml:"SourceIdentity,omitempty"`
}

func errInvalidIdentityToken(msg string, cause error) *Error {
	return &Error{Code: "InvalidIdentityToken", Status: http.StatusBadRequest, Msg: msg, Err: cause}
}

// assume serves AssumeRoleWithWebIdentity: unsigned, as on AWS (the
// token is the credential), so it reaches here without a principal.
func (w *webIdentity) assume(ctx context.Context, f *form) (any, error) {
	raw := f.required("WebIdentityToken")
	f.check("WebIdentityToken", raw, 4, oidc.MaxTokenBytes, nil)
	in := identity.AssumeInput{RoleARN: f.required("RoleArn"), SessionName: f.required("RoleSessionName"), Policy: f.doc("Policy", false)}
	f.check("RoleArn", in.RoleARN, 20, 2048, nil)
	f.check("RoleSessionName", in.SessionName, 2, 64, reSession)
	in.Duration = time.Duration(f.integer("DurationSeconds", 0, 900, 43200)) * time.Second
	if err := f.err(); err != nil {
		return nil, err
	}
	id, err := w.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	sess, creds, err := w.b.AssumeRoleWithWebIdentity(ctx, id, in)
	if err != nil {
		if errors.Is(err, identity.ErrNotFound) || errors.Is(err, identity.ErrAssumeDenied) {
			return nil, errAccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
		}
		return nil, stsErr(err, nil)
	}
	return &webIdentityResult{
		Credentials: credentialsXML{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
			SessionToken: creds.SessionToken, Expiration: optTime(creds.Expiration)},
		Subject:         id.Subject,
		AssumedRoleUser: assumedRoleUserXML{AssumedRoleID: sess.RoleID + ":" + sess.SessionName, ARN: sess.AssumedRoleARN},
		Provider:        id.Provider.ARN, Audience: id.Audience, SourceIdentity: sess.SourceIdentity,
	}, nil
}

// verify checks the token: a provider for its issuer, a signature by a key
// of the issuer's JWKS, an audience among the provider's client ids, not
// expired. Errors are AWS's.
func (w *webIdentity) verify(ctx context.Context, raw string) (identity.WebIdentity, error) {
	tok, err := oidc.Parse(raw)
	if err != nil {
		return identity.WebIdentity{}, errInvalidIdentityToken("The web identity token is malformed.", err)
	}
	if a := tok.Header.Alg; a != "RS256" && a != "ES256" {
		return identity.WebIdentity{}, errInvalidIdentityToken("The web identity token is not signed with RS256 or ES256.", nil)
	}
	p, err := w.b.OIDCProviderFor(ctx, tok.Claims.Iss)
	if err != nil {
		return identity.WebIdentity{}, errInvalidIdentityToken("No OpenIDConnect provider found in your account for "+short(tok.Claims.Iss), err)
	}
	ks, err := w.keys.Get(ctx, p.URL, tok.Header.Kid, p.Thumbprints)
	if err != nil {
		return identity.WebIdentity{}, &Error{Code: "IDPCommunicationError", Status: http.StatusBadRequest,
			Msg: "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements", Err: err}
	}
	err = oidc.Verify(tok, ks, oidc.Expect{Issuer: p.URL, Audiences: p.ClientIDs, Now: w.a.now(), Leeway: 0})
	switch {
	case errors.Is(err, oidc.ErrExpired):
		msg := err.Error()
		msg = msg[strings.Index(msg, "Token expired"):]
		return identity.WebIdentity{}, &Error{Code: "ExpiredTokenException", Status: http.StatusBadRequest, Msg: msg, Err: err}
	case err != nil && strings.Contains(err.Error(), "Incorrect token audience"):
		return identity.WebIdentity{}, errInvalidIdentityToken("Incorrect token audience", err)
	case err != nil:
		return identity.WebIdentity{}, errInvalidIdentityToken("The web identity token could not be verified.", err)
	}
	aud := tok.Claims.Aud[slices.IndexFunc(tok.Claims.Aud, func(s string) bool { return slices.Contains(p.ClientIDs, s) })]
	return identity.WebIdentity{Provider: p, Subject: tok.Claims.Sub, Audience: aud}, nil
}
