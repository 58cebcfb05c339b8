// Package iamapi serves the IAM and STS APIs in the AWS Query protocol
// (form-encoded POST, XML responses), so `aws iam …`, `aws sts …` and the
// SDKs manage sqlgate's users, keys, roles and policies unchanged.
//
// Authentication happens before this package: the server verifies the
// SigV4 signature and puts the principal in the request context
// (iam.WithPrincipal). Every IAM action is then authorized with
// iam.Authorizer as "iam:<Action>" on the ARN it acts on; STS
// GetCallerIdentity needs no permission, as on AWS.
//
// Protocol: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
// API: https://docs.aws.amazon.com/IAM/latest/APIReference/ and
// https://docs.aws.amazon.com/STS/latest/APIReference/
package iamapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sqlgate/sqlgate/internal/awsquery"
	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
)

// API is the IAM and STS Query API.
type API struct {
	b       Backend
	authz   iam.Authorizer
	account string
	log     *slog.Logger
	now     func() time.Time
	ops     map[string]map[string]opFunc // service → Action → op
}

// opFunc runs one action on its parameters and returns the result struct
// (rendered as <ActionResult>) or nil for actions without output.
type opFunc func(ctx context.Context, f *form) (any, error)

// New returns the API over b for account, authorizing IAM actions with
// authz. log defaults to slog.Default().
func New(b Backend, authz iam.Authorizer, account string, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	a := &API{b: b, authz: authz, account: account, log: log.With("component", "iamapi"), now: time.Now}
	a.ops = map[string]map[string]opFunc{
		"iam": {
			"CreateUser": a.createUser, "GetUser": a.getUser, "ListUsers": a.listUsers, "DeleteUser": a.deleteUser,
			"CreateAccessKey": a.createAccessKey, "ListAccessKeys": a.listAccessKeys,
			"UpdateAccessKey": a.updateAccessKey, "DeleteAccessKey": a.deleteAccessKey,
			"CreateRole": a.createRole, "GetRole": a.getRole, "DeleteRole": a.deleteRole, "ListRoles": a.listRoles,
			"CreatePolicy": a.createPolicy, "GetPolicy": a.getPolicy, "GetPolicyVersion": a.getPolicyVersion,
			"ListPolicies": a.listPolicies, "DeletePolicy": a.deletePolicy, "CreatePolicyVersion": a.createPolicyVersion,
			"SimulatePrincipalPolicy": a.simulatePrincipalPolicy, "GetAccountAuthorizationDetails": a.getAccountAuthorizationDetails,
			"UpdateRole": a.updateRole, "UpdateAssumeRolePolicy": a.updateAssumeRolePolicy,
			"TagUser": a.tagUser, "UntagUser": a.untagUser, "ListUserTags": a.listUserTags,
			"TagRole": a.tagRole, "UntagRole": a.untagRole, "ListRoleTags": a.listRoleTags,
			"TagPolicy": a.tagPolicy, "UntagPolicy": a.untagPolicy, "ListPolicyTags": a.listPolicyTags,
		},
		"sts": {
			"GetCallerIdentity": a.getCallerIdentity,
			"AssumeRole":        a.assumeRole,
		},
	}
	a.registerGroups(a.ops["iam"])
	for _, h := range []*holderAPI{a.userHolder(), a.roleHolder(), a.groupHolder()} {
		h.register(a.ops["iam"])
	}
	return a
}

var _ door.Handler = (*API)(nil)

// Handle serves one request whose body was read and SigV4-verified (the
// principal is in r's context, see iam.PrincipalFrom). service is "iam" or
// "sts", from the credential scope. It writes the XML response and returns
// the outcome for the access log: "OK" or the error code.
//
// Parameters come from the body; a GET request (which the Query protocol
// also allows) carries them in the URL query instead.
func (a *API) Serve(w http.ResponseWriter, req door.Request) door.Outcome {
	r, service, body, requestID := req.HTTP, req.Op, req.Body, req.ID
	start := time.Now()
	raw := string(body)
	if r.Method == http.MethodGet {
		raw = r.URL.RawQuery
	}
	action, result, err := a.dispatch(r.Context(), service, raw)
	var out []byte
	if err == nil {
		out, err = awsquery.EncodeResult(namespace(service), action, requestID, result)
	}
	if err != nil {
		e := WriteError(w, service, requestID, err)
		a.logRequest(r, service, action, requestID, start, e)
		return door.Outcome{Code: e.Code}
	}
	awsquery.Write(w, http.StatusOK, requestID, out)
	a.logRequest(r, service, action, requestID, start, nil)
	return door.OK
}

// dispatch parses the form and runs the action it names.
func (a *API) dispatch(ctx context.Context, service, raw string) (action string, result any, err error) {
	ops, ok := a.ops[service]
	if !ok {
		return "", nil, errInvalidAction("Unknown service " + short(service) + ".")
	}
	f, err := parseForm(raw)
	if err != nil {
		return "", nil, err
	}
	action = f.str("Action")
	if action == "" {
		return "", nil, NewError("MissingAction", http.StatusBadRequest, "Missing Action")
	}
	version := VersionIAM
	if service == "sts" {
		version = VersionSTS
	}
	fn, ok := ops[action]
	if !ok || (f.has("Version") && f.str("Version") != version) {
		v := f.str("Version")
		if !f.has("Version") {
			v = version
		}
		return "", nil, errInvalidAction(fmt.Sprintf("Could not find operation %s for version %s", short(action), short(v)))
	}
	result, err = a.run(ctx, fn, f)
	return action, result, err
}

// run calls fn, turning a panic into an internal failure: a bug in one
// action must not take the listener down.
func (a *API) run(ctx context.Context, fn opFunc, f *form) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, errInternal(fmt.Errorf("BUG: panic: %v", p))
		}
	}()
	return fn(ctx, f)
}

// logRequest records the request once. Parameters and responses are never
// logged: they carry secret access keys and session tokens.
func (a *API) logRequest(r *http.Request, service, action, requestID string, start time.Time, e *Error) {
	principal := ""
	if p := iam.PrincipalFrom(r.Context()); p != nil {
		principal = p.ARN
	}
	attrs := []any{"service", service, "action", action, "request_id", requestID, "principal", principal, "dur", time.Since(start)}
	switch {
	case e == nil:
		a.log.Debug("request", attrs...)
	case e.Status >= 500:
		a.log.Error("request failed", append(attrs, "code", e.Code, "err", e.Err)...)
	default:
		a.log.Info("request rejected", append(attrs, "code", e.Code)...)
	}
}

// authorize checks iam:<action> on resource for the caller in ctx.
func (a *API) authorize(ctx context.Context, action, resource string) error {
	return backendErr(a.authz.Authorize(ctx, "iam:"+action, resource), entity{})
}

// arn builds arn:aws:iam::ACCOUNT:<kind><path><name>.
func (a *API) arn(kind, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + a.account + ":" + kind + path + name
}

// caller returns the verified principal, or AccessDenied without one.
func caller(ctx context.Context) (*iam.Principal, error) {
	p := iam.PrincipalFrom(ctx)
	if p == nil {
		return nil, errAccessDenied("Request is missing Authentication Token")
	}
	return p, nil
}
