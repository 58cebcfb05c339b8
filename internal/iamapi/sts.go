package iamapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
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
	in, err := assumeInput(f)
	if err != nil {
		return nil, err
	}
	if p.RoleARN != "" && in.Duration > chainedMaxDuration*time.Second {
		return nil, errValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if validARN(in.RoleARN) != nil {
		return nil, errValidation(short(in.RoleARN) + " is invalid")
	}
	// The caller's own policies must allow each action the request
	// needs, with the request's keys and the role's tags.
	var roleTags identity.Tags
	if r, err := a.b.GetRole(ctx, in.RoleARN[strings.LastIndexByte(in.RoleARN, '/')+1:]); err == nil && r.ARN == in.RoleARN {
		roleTags = r.Tags
	}
	ctx = iam.WithConditionKeys(ctx, identity.AssumeRoleKeys(roleTags, in))
	denied := &iam.AccessDeniedError{PrincipalARN: p.ARN, Action: "sts:AssumeRole", Resource: in.RoleARN}
	for _, action := range sessionActions(in) {
		if err := a.authz.Authorize(ctx, action, in.RoleARN); err != nil {
			return nil, stsErr(err, denied)
		}
	}
	sess, creds, err := a.b.AssumeRole(ctx, p, in)
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

// sessionActions are the actions an AssumeRole request needs: sts:TagSession
// with session tags, sts:SetSourceIdentity with a source identity.
func sessionActions(in identity.AssumeInput) []string {
	actions := []string{"sts:AssumeRole"}
	if len(in.Tags) > 0 || len(in.TransitiveTagKeys) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if in.SourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	return actions
}

// maxSessionPolicyARNs is AWS's limit of PolicyArns per AssumeRole.
const maxSessionPolicyARNs = 10

// assumeInput reads and validates the AssumeRole parameters.
func assumeInput(f *form) (identity.AssumeInput, error) {
	in := identity.AssumeInput{RoleARN: f.required("RoleArn"), SessionName: f.required("RoleSessionName"),
		ExternalID: f.str("ExternalId"), SourceIdentity: f.str("SourceIdentity"), Policy: f.doc("Policy", false)}
	f.check("RoleArn", in.RoleARN, 20, 2048, nil)
	f.check("RoleSessionName", in.SessionName, 2, 64, reSession)
	in.Duration = time.Duration(f.integer("DurationSeconds", 0, 900, 43200)) * time.Second
	f.check("ExternalId", in.ExternalID, 2, 1224, reExternalID)
	f.check("SourceIdentity", in.SourceIdentity, 2, 64, reSession)
	if strings.HasPrefix(strings.ToLower(in.SourceIdentity), "aws:") {
		f.fail("SourceIdentity must not begin with aws:")
	}
	in.Tags = readTags(f)
	in.TransitiveTagKeys = f.list("TransitiveTagKeys")
	for _, k := range in.TransitiveTagKeys {
		if !slices.ContainsFunc(in.Tags, func(t identity.Tag) bool { return strings.EqualFold(t.Key, k) }) {
			f.fail("TransitiveTagKeys must be keys of Tags: %s is not", short(k))
		}
	}
	for _, m := range f.structs("PolicyArns") {
		arn := m.required("arn")
		m.check("arn", arn, 20, 2048, nil)
		f.errs = append(f.errs, m.errs...)
		in.PolicyARNs = append(in.PolicyARNs, arn)
	}
	if len(in.PolicyARNs) > maxSessionPolicyARNs {
		f.fail("PolicyArns must not have more than %d members", maxSessionPolicyARNs)
	}
	if len(in.Policy) > 2048 {
		f.fail("Policy must not be longer than 2048 characters")
	}
	return in, f.err()
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
