package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/apigw"
	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/dataapi"
	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/iamapi"
	"github.com/sqlgate/sqlgate/internal/rdsapi"
	"github.com/sqlgate/sqlgate/internal/sigv4"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// MaxBodyBytes is the request size limit (the Data API's 4 MiB).
const MaxBodyBytes = 4 << 20

// handler routes HTTP requests: health and metrics without auth, then
// every AWS API behind SigV4 verification.
type handler struct {
	s      *Server
	secure bool // the listener is HTTPS (aws:SecureTransport)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
		return
	case "/readyz":
		h.s.ready(w, r)
		return
	case "/metrics":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		h.s.metrics.reg.Write(w)
		return
	}
	// The web console (internal/console) owns /console and everything
	// under /console/: its own session sign-in, then the same API
	// handlers and IAM checks as below.
	if r.URL.Path == "/console" || strings.HasPrefix(r.URL.Path, "/console/") {
		h.s.console.ServeHTTP(w, r)
		return
	}
	// SQL endpoints and /openapi.json are plain HTTP, checked by
	// x-api-key and allow_cidrs instead of SigV4: route them before the
	// AWS APIs' signature check. Reserved paths (/, Data API actions)
	// never match an endpoint (config validation).
	// Container credentials (workloads.go): the bootstrap token, not a
	// signature, authenticates the request.
	if isCredentialsPath(r.URL.Path) {
		h.s.credsHandler.ServeHTTP(w, r)
		return
	}
	// The API Gateway API's paths are reserved (no endpoint may declare
	// one): they go to the signed AWS APIs even when unsigned.
	if !apigw.Reserved(r.URL.Path) && h.s.endpoints.Match(r) {
		h.s.endpoints.ServeHTTP(w, r)
		return
	}
	h.serveAPI(w, r)
}

// accessEntry is one access-log line: never parameters or secrets.
type accessEntry struct {
	action, principal, cluster, outcome string
}

func (h *handler) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	var e accessEntry
	defer func() { accessLine(h.s.log, reqID, r.Method, r.URL.Path, e, sw.status, time.Since(start)) }()
	body, err := readBody(w, r)
	if err != nil {
		e.outcome = awserr.Write(sw, reqID, err).Code
		return
	}
	target := r.Header.Get("X-Amz-Target")
	d := routeOf(r, target)
	e.action = d.action
	if isWebIdentity(r, d, body) {
		e.action, e.principal = "sts:AssumeRoleWithWebIdentity", "web-identity"
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		r = r.WithContext(iam.WithRequestInfo(r.Context(), iam.RequestInfo{SourceIP: host, Secure: h.secure, UserAgent: r.UserAgent()}))
		e.outcome = h.s.iamAPI.Serve(sw, door.Request{HTTP: r, Op: "sts", Body: body, ID: reqID}).Code
		return
	}
	ctx, service, err := h.s.authn.Request(r, body, h.secure, d.services...)
	if err != nil {
		switch d.name {
		case "iam":
			e.outcome = writeQueryError(sw, r, reqID, err)
		case "rds":
			e.outcome = rdsapi.WriteError(sw, reqID, err).Code
		default:
			e.outcome = awserr.Write(sw, reqID, err).Code
		}
		return
	}
	e.principal = iam.PrincipalFrom(ctx).ARN
	req := door.Request{HTTP: r.WithContext(ctx), Body: body, ID: reqID}
	var api door.Handler
	switch d.name {
	case "secretsmanager":
		api, req.Op = h.s.secretsAPI, strings.TrimPrefix(target, "secretsmanager.")
	case "rds-data":
		api = h.s.dataAPI
	case "workloads":
		api, req.Op = h.s.workloadAPI, strings.TrimPrefix(target, workload.TargetPrefix)
	case "apigateway":
		api = h.s.apigwAPI
	case "iam":
		e.action = service + ":" + formAction(body)
		api, req.Op = h.s.iamAPI, service
	case "rds":
		e.action = "rds:" + formAction(body)
		api = h.s.rdsAPI
	default:
		e.outcome = awserr.Write(sw, reqID, awserr.New("UnknownOperationException", http.StatusNotFound,
			"Unknown operation: "+r.Method+" "+r.URL.Path+" "+target)).Code
		return
	}
	out := api.Serve(sw, req)
	e.outcome, e.cluster = out.Code, out.Cluster
}

// route names one of the AWS APIs on the listener, and the SigV4 service
// names a request to it must be signed for.
type route struct {
	name     string
	action   string // for the access log
	services []string
}

// dataRoutes are the Data API's routes by action, built once (their
// services slice is shared: routes are read, never changed).
var dataRoutes = func() map[string]route {
	m := map[string]route{}
	services := []string{"rds-data"}
	for _, a := range dataapi.Actions {
		m[a] = route{"rds-data", "rds-data:" + a, services}
	}
	return m
}()

// routeOf routes a request: Secrets Manager by X-Amz-Target, the Data API
// by path, IAM/STS (Query protocol) as a form POST to "/".
func routeOf(r *http.Request, target string) route {
	if op, ok := strings.CutPrefix(target, "secretsmanager."); ok {
		return route{"secretsmanager", "secretsmanager:" + op, []string{"secretsmanager"}}
	}
	if op, ok := strings.CutPrefix(target, workload.TargetPrefix); ok {
		return route{"workloads", "sqlgate:" + op, []string{"sqlgate"}}
	}
	if target == "" && apigw.Reserved(r.URL.Path) {
		return route{"apigateway", "apigateway:" + r.Method, []string{"apigateway"}}
	}
	if target != "" || r.Method != http.MethodPost {
		return route{name: "unknown"}
	}
	if a := dataapi.Action(r.URL.Path); a != "" {
		return dataRoutes[a]
	}
	if r.URL.Path == "/" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// The RDS API is a form POST to "/" too: the credential scope's
		// service tells it from IAM and STS.
		if a, err := sigv4.ParseAuthorization(r.Header.Get("Authorization")); err == nil && a.Service == "rds" {
			return route{name: "rds", services: []string{"rds"}}
		}
		return route{name: "iam", services: []string{"iam", "sts"}}
	}
	return route{name: "unknown"}
}

// formAction returns the Action of a Query-protocol body, for the log.
func formAction(body []byte) string {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	a := v.Get("Action")
	if len(a) > 64 {
		a = a[:64]
	}
	return a
}

// readBody reads the whole body up to MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, awserr.Wrap("BadRequestException", http.StatusBadRequest, "Could not read the request body.", err)
	}
	return body, nil
}

func tooLarge() *awserr.Error {
	return awserr.New("RequestEntityTooLargeException", http.StatusRequestEntityTooLarge,
		"Request size exceeds the maximum allowed size of 4194304 bytes.")
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// NewLogger returns the process logger in the configured format.
func NewLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(&lineHandler{Handler: slog.NewJSONHandler(w, nil), w: w, json: true})
	}
	return slog.New(&lineHandler{Handler: slog.NewTextHandler(w, nil), w: w})
}

// writeQueryError writes an authentication error (already mapped by
// authn) as a Query-protocol XML ErrorResponse for IAM and STS clients,
// in the namespace of the service the request was signed for.
func writeQueryError(w http.ResponseWriter, r *http.Request, requestID string, err error) string {
	e := awserr.As(err)
	service := "iam"
	if a, perr := sigv4.ParseAuthorization(r.Header.Get("Authorization")); perr == nil && a.Service == "sts" {
		service = "sts"
	}
	return iamapi.WriteError(w, service, requestID, iamapi.NewError(iamapi.QueryCode(e.Code), e.Status, e.Msg)).Code
}
