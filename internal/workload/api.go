package workload

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// TargetPrefix is the X-Amz-Target prefix of the workload API: a
// SigV4-signed (service "sqlgate") JSON API for operators and the console.
const TargetPrefix = "SqlgateWorkloads."

// API serves the workload API. Each operation needs the IAM action
// sqlgate:OPERATION on arn:aws:sqlgate:REGION:ACCOUNT:workload/NAME;
// CreateWorkload also iam:PassRole on the role (binding a workload to a
// role hands the role to whoever holds the token), RevokeRoleSessions
// iam:PutRolePolicy on the role.
type API struct {
	Store           *Store
	Policies        PolicyPutter
	Authz           iam.Authorizer
	Region, Account string
}

// apiWorkload is the public view of a workload (never the token hash).
type apiWorkload struct {
	Name           string        `json:"Name"`
	Type           string        `json:"Type"`
	RoleArn        string        `json:"RoleArn"`
	AllowCidrs     []string      `json:"AllowCidrs"`
	Tags           identity.Tags `json:"Tags,omitempty"`
	SourceIdentity string        `json:"SourceIdentity,omitempty"`
	LifetimeSecs   int64         `json:"LifetimeSeconds,omitempty"`
	CreateDate     time.Time     `json:"CreateDate"`
	TokenRotated   time.Time     `json:"TokenRotated"`
}

func view(w *Workload) apiWorkload {
	return apiWorkload{Name: w.Name, Type: w.Type, RoleArn: w.RoleARN, AllowCidrs: w.AllowCIDRs, Tags: w.Tags,
		SourceIdentity: w.SourceIdentity, LifetimeSecs: int64(w.Lifetime / time.Second), CreateDate: w.CreateDate, TokenRotated: w.TokenRotated}
}

type apiRequest struct {
	Name            string        `json:"Name"`
	Type            string        `json:"Type"`
	Role            string        `json:"Role"`
	RoleName        string        `json:"RoleName"`
	AllowCidrs      []string      `json:"AllowCidrs"`
	Tags            identity.Tags `json:"Tags"`
	SourceIdentity  string        `json:"SourceIdentity"`
	LifetimeSeconds int64         `json:"LifetimeSeconds"`
}

var _ door.Handler = (*API)(nil)

// Serve serves operation dr.Op; it returns the outcome for the access log.
func (a *API) Serve(w http.ResponseWriter, dr door.Request) door.Outcome {
	r, op, body, requestID := dr.HTTP, dr.Op, dr.Body, dr.ID
	var req apiRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return door.Outcome{Code: awserr.Write(w, requestID, awserr.New("SerializationException", http.StatusBadRequest, "Invalid JSON body.")).Code}
		}
	}
	out, err := a.do(r.Context(), op, req)
	if err != nil {
		return door.Outcome{Code: awserr.Write(w, requestID, apiError(err)).Code}
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID)
	_, _ = w.Write(b)
	return door.OK
}

func (a *API) arn(name string) string {
	return "arn:aws:sqlgate:" + a.Region + ":" + a.Account + ":workload/" + name
}

func (a *API) roleARN(role string) string {
	return "arn:aws:iam::" + a.Account + ":role/" + roleName(role)
}

func (a *API) do(ctx context.Context, op string, req apiRequest) (any, error) {
	authz := func(action, res string) error { return a.Authz.Authorize(ctx, action, res) }
	switch op {
	case "CreateWorkload":
		if err := errors.Join(authz("sqlgate:CreateWorkload", a.arn(req.Name)), authz("iam:PassRole", a.roleARN(req.Role))); err != nil {
			return nil, err
		}
		wl, tok, err := a.Store.Create(ctx, CreateInput{Name: req.Name, Type: req.Type, Role: req.Role, AllowCIDRs: req.AllowCidrs,
			Tags: req.Tags, SourceIdentity: req.SourceIdentity, Lifetime: time.Duration(req.LifetimeSeconds) * time.Second})
		if err != nil {
			return nil, err
		}
		return map[string]any{"Workload": view(wl), "BootstrapToken": tok}, nil
	case "GetWorkload":
		if err := authz("sqlgate:GetWorkload", a.arn(req.Name)); err != nil {
			return nil, err
		}
		wl, err := a.Store.Get(ctx, req.Name)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Workload": view(wl)}, nil
	case "ListWorkloads":
		if err := authz("sqlgate:ListWorkloads", a.arn("*")); err != nil {
			return nil, err
		}
		ws, err := a.Store.List(ctx)
		out := make([]apiWorkload, 0, len(ws))
		for _, wl := range ws {
			out = append(out, view(wl))
		}
		return map[string]any{"Workloads": out}, err
	case "RotateWorkloadToken":
		if err := authz("sqlgate:RotateWorkloadToken", a.arn(req.Name)); err != nil {
			return nil, err
		}
		tok, err := a.Store.RotateToken(ctx, req.Name)
		return map[string]any{"BootstrapToken": tok}, err
	case "DeleteWorkload":
		if err := authz("sqlgate:DeleteWorkload", a.arn(req.Name)); err != nil {
			return nil, err
		}
		return map[string]any{}, a.Store.Delete(ctx, req.Name)
	case "RevokeRoleSessions":
		if err := authz("iam:PutRolePolicy", a.roleARN(req.RoleName)); err != nil {
			return nil, err
		}
		cut, err := RevokeSessions(ctx, a.Policies, roleName(req.RoleName), time.Now())
		return map[string]any{"RevokedBefore": cut}, err
	}
	return nil, awserr.New("UnknownOperationException", http.StatusBadRequest, "Unknown operation "+op)
}

// apiError maps store errors to AWS JSON errors.
func apiError(err error) error {
	var denied *iam.AccessDeniedError
	switch {
	case errors.As(err, &denied):
		return awserr.Wrap("AccessDeniedException", http.StatusForbidden, denied.Error(), err)
	case errors.Is(err, ErrNotFound), errors.Is(err, identity.ErrNotFound):
		return awserr.Wrap("ResourceNotFoundException", http.StatusBadRequest, err.Error(), err)
	case errors.Is(err, ErrExists):
		return awserr.Wrap("ResourceExistsException", http.StatusBadRequest, err.Error(), err)
	case errors.Is(err, ErrInvalidInput), errors.Is(err, ErrUntrusted), errors.Is(err, identity.ErrInvalidInput):
		return awserr.Wrap("InvalidParameterException", http.StatusBadRequest, err.Error(), err)
	}
	return err
}
