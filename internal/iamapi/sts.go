package iamapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	ARN     string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     credentialsXML     `xml:"Credentials"`
	AssumedRoleUser assumedRoleUserXML `xml:"AssumedRoleUser"`
	SourceIdentity  string             `xml:"SourceIdentity,omitempty"`
}

type credentialsXML struct {
	AccessKeyID     string   `xml:"AccessKeyId"`
	SecretAccessKey string   `xml:"SecretAccessKey"`
	SessionToken    string   `xml:"SessionToken"`
	Expiration      *isoTime `xml:"Expiration"`
}

type assumedRoleUserXML struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	ARN           string `xml:"Arn"`
}

// chainedMaxDuration is AWS's limit for a role assumed with the
// credentials of another assumed role (role chaining).
const chainedMaxDuration = 3600

// getCallerIdentity needs no permission: AWS answers it even when every
// action is denied.
func (a *API) getCallerIdentity(ctx context.Context, f *form) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &callerIdentityResult{UserID: p.UserID, Account: a.account, ARN: p.ARN}
	switch {
	case p.Root:
		out.UserID = a.account
	case out.UserID == "" && p.UserName != "":
		u, err := a.b.GetUser(ctx, p.UserName)
		if err != nil {
			return nil, backendErr(err, entity{"user", p.UserName})
		}
		out.UserID = u.UserID
	}
	return out, nil
}

func (a *API) assumeRole(ctx context.Context, f *form) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	roleARN := f.required("RoleArn")
	f.check("RoleArn", roleARN, 20, 2048, nil)
	session := f.required("RoleSessionName")
	f.check("RoleSessionName", session, 2, 64, reSession)
	duration := f.integer("DurationSeconds", 0, 900, 43200)
	f.check("ExternalId", f.str("ExternalId"), 2, 1224, reExternalID)
	f.check("SourceIdentity", f.str("SourceIdentity"), 2, 64, reSession)
	readTags(f)
	if err := f.err(); err != nil {
		return nil, err
	}
	// A session policy narrows the session's permissions; ignoring one
	// would grant more than the caller asked for, so refuse it.
	if f.has("Policy") || len(f.indexes("PolicyArns")) > 0 {
		return nil, errValidation("Session policies (Policy, PolicyArns) are not supported.")
	}
	if p.RoleARN != "" && duration > chainedMaxDuration {
		return nil, errValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if validARN(roleARN) != nil {
		return nil, errValidation(short(roleARN) + " is invalid")
	}
	denied := &iam.AccessDeniedError{PrincipalARN: p.ARN, Action: "sts:AssumeRole", Resource: roleARN}
	if err := a.authz.Authorize(ctx, "sts:AssumeRole", roleARN); err != nil {
		return nil, stsErr(err, denied)
	}
	keys := map[string][]string{}
	if v := f.str("ExternalId"); v != "" {
		keys["sts:externalid"] = []string{v}
	}
	if v := f.str("SourceIdentity"); v != "" {
		keys["sts:sourceidentity"] = []string{v}
	}
	if len(keys) > 0 {
		ctx = iam.WithConditionKeys(ctx, keys)
	}
	sess, creds, err := a.b.AssumeRole(ctx, p, roleARN, session, time.Duration(duration)*time.Second)
	if err != nil {
		return nil, stsErr(err, denied)
	}
	return &assumeRoleResult{
		Credentials: credentialsXML{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
			SessionToken: creds.SessionToken, Expiration: optTime(creds.Expiration)},
		AssumedRoleUser: assumedRoleUserXML{AssumedRoleID: sess.RoleID + ":" + sess.SessionName, ARN: sess.AssumedRoleARN},
		SourceIdentity:  sess.SourceIdentity,
	}, nil
}

// stsErr maps AssumeRole failures. A missing role and a trust policy that
// does not name the caller both read as AccessDenied, as on AWS, so the
// answer does not reveal which roles exist.
func stsErr(err error, denied *iam.AccessDeniedError) error {
	var ad *iam.AccessDeniedError
	switch {
	case errors.As(err, &ad):
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Msg: ad.Error(), Err: err}
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, identity.ErrAssumeDenied):
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Msg: denied.Error(), Err: err}
	case errors.Is(err, identity.ErrInvalidInput):
		return wrapMsg(errValidation, err, identity.ErrInvalidInput, "Invalid input.")
	case errors.Is(err, identity.ErrMalformedPolicy):
		return wrapMsg(errMalformedPolicy, err, identity.ErrMalformedPolicy, "Syntax errors in policy.")
	case errors.Is(err, identity.ErrExpiredToken):
		return errExpiredToken(err)
	}
	return errInternal(err)
}
