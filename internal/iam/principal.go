// Package iam holds the identity and authorization model: who made a request
// (Principal), the IAM policy language (Parse, Evaluate), the condition keys
// of every request (RequestContext, and per action the key table: supplied,
// absent as on AWS, or unsupported and failing closed), and the Authorizer
// interface the APIs ask.
package iam

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Principal is the verified identity behind a request.
type Principal struct {
	ARN         string // arn:aws:iam::ACCOUNT:root or …:user/NAME
	AccessKeyID string
	UserName    string // empty for root
	Root        bool
	// UserID is aws:userid: the user id (AIDA…), or ROLEID:SESSION for an
	// assumed role.
	UserID string
	// RoleARN is the role of an assumed-role session (empty otherwise).
	RoleARN string
	// Service is the service principal name ("lambda.amazonaws.com") when an
	// AWS service acts, matched by a policy's {"Service": …} principal;
	// empty for IAM identities.
	Service string
	// Federated is the identity provider ARN
	// ("arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH") of a web identity
	// calling AssumeRoleWithWebIdentity, matched by a trust policy's
	// {"Federated": …} principal; empty otherwise.
	Federated string
	// Tags are the principal's tags (aws:PrincipalTag/*): the user's, or
	// for a role session the role's overlaid with the session tags.
	Tags map[string]string
	// IssuedAt is when temporary credentials were issued
	// (aws:TokenIssueTime); zero for long-term keys.
	IssuedAt time.Time
	// SourceIdentity is the source identity of a role session.
	SourceIdentity string
}

// RequestInfo is the request context an authorization decision may use
// (condition keys such as aws:SourceIp, aws:SecureTransport).
type RequestInfo struct {
	SourceIP string
	Secure   bool
	// Region is the region the request was signed for
	// (aws:RequestedRegion).
	Region string
	// UserAgent and Referer are the HTTP headers (aws:UserAgent,
	// aws:Referer), empty when not sent.
	UserAgent, Referer string
	// ViaService marks a request sqlgate makes on the caller's behalf
	// (the Data API reading the caller's secret): aws:ViaAWSService.
	ViaService bool
}

type principalKey struct{}
type requestKey struct{}

// WithPrincipal returns ctx carrying p and info.
func WithPrincipal(ctx context.Context, p *Principal, info RequestInfo) context.Context {
	ctx = context.WithValue(ctx, principalKey{}, p)
	return context.WithValue(ctx, requestKey{}, info)
}

// WithRequestInfo returns ctx carrying info in place of the request info
// stored by WithPrincipal.
func WithRequestInfo(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, info)
}

// PrincipalFrom returns the principal stored by WithPrincipal, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// RequestInfoFrom returns the request info stored by WithPrincipal.
func RequestInfoFrom(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(requestKey{}).(RequestInfo)
	return ri
}

// Authorizer decides whether the principal in ctx may perform action
// ("rds-data:ExecuteStatement") on resource (an ARN). It returns nil when
// allowed and an *AccessDeniedError otherwise. Implementations fail closed.
type Authorizer interface {
	Authorize(ctx context.Context, action, resource string) error
}

// AccessDeniedError is returned by an Authorizer that denies a request.
type AccessDeniedError struct {
	PrincipalARN, Action, Resource string
}

func (e *AccessDeniedError) Error() string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", e.PrincipalARN, e.Action, e.Resource)
}

// Status is the HTTP status of an access-denied response.
func (e *AccessDeniedError) Status() int { return http.StatusForbidden }

// RootOnly allows every action to root principals and denies everything else.
type RootOnly struct{}

// Authorize implements Authorizer.
func (RootOnly) Authorize(ctx context.Context, action, resource string) error {
	p := PrincipalFrom(ctx)
	if p != nil && p.Root {
		return nil
	}
	arn := "anonymous"
	if p != nil {
		arn = p.ARN
	}
	return &AccessDeniedError{PrincipalARN: arn, Action: action, Resource: resource}
}

var _ Authorizer = RootOnly{}
