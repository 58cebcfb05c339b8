// Package apigw serves the part of the API Gateway management API that
// manages SQL endpoints' API keys and usage plans (REST-JSON, as the aws
// CLI and the SDKs send it, signed for the service "apigateway"):
// /apikeys, /usageplans, their keys and their usage. Every call is
// authorized as apigateway:GET|POST|PATCH|DELETE on the resource ARN
// arn:aws:apigateway:REGION::PATH, as on AWS.
//
// Keys and plans live in the endpoints store; after each change the
// endpoint handler is refreshed at once, and every other node sharing the
// state store refreshes on the store's change notification.
package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/endpoints"
	"github.com/sqlgate/sqlgate/internal/iam"
)

// APIID is the one restApiId sqlgate's endpoints answer to: a usage
// plan's apiStages name {apiId: "sqlgate", stage: ENDPOINT_NAME}.
const APIID = "sqlgate"

// Backend is the endpoint handler the API changes.
type Backend interface {
	// Store is the key and plan store, bound to the declared ones.
	Store() *endpoints.Store
	// Refresh makes the current keys and plans serve.
	Refresh(ctx context.Context) error
	// Flush writes this node's pending usage counts.
	Flush(ctx context.Context) error
	// Endpoints returns the declared endpoint names (the stages).
	Endpoints() []string
}

var _ Backend = (*endpoints.Handler)(nil)

// API serves the API Gateway operations.
type API struct {
	b      Backend
	authz  iam.Authorizer
	region string
	log    *slog.Logger
	now    func() time.Time
}

// New returns the API over b; authz decides apigateway:* calls.
func New(b Backend, authz iam.Authorizer, region string, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	return &API{b: b, authz: authz, region: region, log: log, now: time.Now}
}

// Reserved reports whether path is an API Gateway API path.
func Reserved(path string) bool { return config.IsAPIGatewayPath(path) }

// call is one request being served.
type call struct {
	ctx   context.Context
	r     *http.Request
	body  []byte
	segs  []string // decoded path segments
	store *endpoints.Store
}

// route is one operation: its method, path shape ("*" = any segment) and
// handler.
type route struct {
	method, shape string
	fn            func(a *API, c *call) (int, any, error)
}

var routes = []route{
	{http.MethodPost, "apikeys", (*API).createAPIKey},
	{http.MethodGet, "apikeys", (*API).getAPIKeys},
	{http.MethodGet, "apikeys/*", (*API).getAPIKey},
	{http.MethodPatch, "apikeys/*", (*API).updateAPIKey},
	{http.MethodDelete, "apikeys/*", (*API).deleteAPIKey},
	{http.MethodPost, "usageplans", (*API).createUsagePlan},
	{http.MethodGet, "usageplans", (*API).getUsagePlans},
	{http.MethodGet, "usageplans/*", (*API).getUsagePlan},
	{http.MethodPatch, "usageplans/*", (*API).updateUsagePlan},
	{http.MethodDelete, "usageplans/*", (*API).deleteUsagePlan},
	{http.MethodPost, "usageplans/*/keys", (*API).createUsagePlanKey},
	{http.MethodGet, "usageplans/*/keys", (*API).getUsagePlanKeys},
	{http.MethodGet, "usageplans/*/keys/*", (*API).getUsagePlanKey},
	{http.MethodDelete, "usageplans/*/keys/*", (*API).deleteUsagePlanKey},
	{http.MethodGet, "usageplans/*/usage", (*API).getUsage},
}

func (rt route) match(method string, segs []string) bool {
	shape := strings.Split(rt.shape, "/")
	if method != rt.method || len(shape) != len(segs) {
		return false
	}
	for i, s := range shape {
		if s != "*" && s != segs[i] || segs[i] == "" {
			return false
		}
	}
	return true
}

var _ door.Handler = (*API)(nil)

// Serve serves one authenticated request (the principal is in its
// context) and returns the outcome for the access log.
func (a *API) Serve(w http.ResponseWriter, req door.Request) door.Outcome {
	r, body, requestID := req.HTTP, req.Body, req.ID
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	c := &call{ctx: r.Context(), r: r, body: body, segs: segs, store: a.b.Store()}
	for _, rt := range routes {
		if !rt.match(r.Method, segs) {
			continue
		}
		if err := a.authorize(c.ctx, r.Method, r.URL.Path); err != nil {
			return a.fail(w, requestID, err)
		}
		status, out, err := rt.fn(a, c)
		if err != nil {
			return a.fail(w, requestID, err)
		}
		writeJSON(w, requestID, status, out)
		return door.OK
	}
	return a.fail(w, requestID, notFound("Invalid request: sqlgate serves the API Gateway operations on API keys and usage plans only, not "+r.Method+" "+r.URL.Path))
}

// arn returns the API Gateway resource ARN of path.
func (a *API) arn(path string) string { return "arn:aws:apigateway:" + a.region + "::" + path }

func (a *API) authorize(ctx context.Context, method, path string) error {
	return a.authz.Authorize(ctx, "apigateway:"+method, a.arn(path))
}

// changed makes a change serve on this node at once; other nodes follow
// the state store's notification.
func (a *API) changed(ctx context.Context) {
	if err := a.b.Refresh(ctx); err != nil {
		a.log.Warn("refresh api keys after a change; the watcher retries", "err", err)
	}
}

// fail writes err as API Gateway's REST-JSON error.
func (a *API) fail(w http.ResponseWriter, requestID string, err error) door.Outcome {
	e := toAPIError(err)
	if e.Status >= 500 {
		a.log.Error("api gateway request failed", "err", err)
	}
	return door.Outcome{Code: awserr.Write(w, requestID, e).Code}
}

func writeJSON(w http.ResponseWriter, requestID string, status int, v any) {
	h := w.Header()
	h.Set("X-Amzn-RequestId", requestID)
	if v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		awserr.Write(w, requestID, awserr.ErrInternal(err))
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Errors as API Gateway returns them.
func notFound(msg string) *awserr.Error {
	return awserr.New("NotFoundException", http.StatusNotFound, msg)
}

func conflict(msg string) *awserr.Error {
	return awserr.New("ConflictException", http.StatusConflict, msg)
}

func badRequest(msg string) *awserr.Error {
	return awserr.New("BadRequestException", http.StatusBadRequest, msg)
}

// toAPIError maps store and IAM errors to API Gateway's exceptions.
func toAPIError(err error) *awserr.Error {
	var (
		ae  *awserr.Error
		ade *iam.AccessDeniedError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ade):
		return awserr.Wrap("AccessDeniedException", http.StatusForbidden, ade.Error(), err)
	case errors.Is(err, endpoints.ErrKeyNotFound):
		return awserr.Wrap("NotFoundException", http.StatusNotFound, "Invalid API Key identifier specified", err)
	case errors.Is(err, endpoints.ErrPlanNotFound):
		return awserr.Wrap("NotFoundException", http.StatusNotFound, "Invalid Usage Plan ID specified", err)
	case errors.Is(err, endpoints.ErrExists):
		return awserr.Wrap("ConflictException", http.StatusConflict, publicMsg(err, "already exists"), err)
	case errors.Is(err, endpoints.ErrDeclared):
		return awserr.Wrap("BadRequestException", http.StatusBadRequest,
			publicMsg(err, "")+": change it in the config file", err)
	case errors.Is(err, endpoints.ErrInvalid):
		return awserr.Wrap("BadRequestException", http.StatusBadRequest, publicMsg(err, ""), err)
	}
	return awserr.ErrInternal(err)
}

// publicMsg is err's text for the client (store errors name only IDs,
// names and the rule broken, never key values), or def when err is empty.
func publicMsg(err error, def string) string {
	if s := err.Error(); s != "" {
		return strings.TrimPrefix(s, "invalid: ")
	}
	return def
}
