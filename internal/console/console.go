// Package console serves sqlgate's web console at /console/: a single-page
// app embedded in the binary (no CDN, works offline) and a small JSON API
// behind a session cookie.
//
// Sign-in takes an access key pair, which a KeyVerifier checks; the
// session then holds only the access key id, never the secret. Every
// action afterwards runs as that principal through the same handlers that
// serve SigV4 requests (Services), with the principal in the request
// context (iam.WithPrincipal), so the same IAM policies decide. The
// console authorizes one thing itself, reading cluster descriptions, as
// rds:DescribeDBClusters on each cluster ARN.
//
// Sessions: 256-bit random ids, new at every sign-in (no fixation), kept
// server-side in memory (so they end with the process and are per node),
// carried in an HttpOnly, SameSite=Strict cookie (Secure on HTTPS) and
// valid for Config.SessionTTL. State-changing calls need the session's
// CSRF token in the X-CSRF-Token header and, when the browser names one, a
// same-origin Origin. Responses carry a default-src 'self' CSP; the app
// renders user data with textContent only. See docs/console.md.
package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/state"
)

// Prefix is the URL path the console is mounted at.
const Prefix = "/console/"

// ErrBadCredentials is returned by a KeyVerifier for an unknown, inactive
// or expired access key or a wrong secret; callers do not learn which.
var ErrBadCredentials = errors.New("invalid access key pair")

// KeyVerifier checks sign-in credentials. Principal is called on every
// console request, so a deleted or deactivated key ends its sessions at
// once.
type KeyVerifier interface {
	// VerifyKey returns the principal of an access key pair; token is the
	// STS session token ("" for long-term keys). It compares secrets in
	// constant time and returns ErrBadCredentials on any mismatch.
	VerifyKey(ctx context.Context, accessKeyID, secretAccessKey, token string) (*iam.Principal, error)
	// Principal returns the current principal of an access key, or an
	// error when the key no longer works.
	Principal(ctx context.Context, accessKeyID string) (*iam.Principal, error)
}

// Services are the AWS-compatible APIs the console calls for the signed-in
// principal, which is in r's context. Each writes exactly the response an
// SDK would get, authorized by the same IAM policies.
type Services interface {
	// DataAPI serves a Data API call; r.URL.Path is its REST path
	// ("/Execute", "/BeginTransaction", …).
	DataAPI(w http.ResponseWriter, r *http.Request, body []byte, requestID string)
	// DataAPIScript runs the Query Editor's "Run all": an ExecuteStatement
	// request whose sql is a script, run in one session (a USE holds for
	// the rest of the script), authorized as rds-data:ExecuteStatement.
	DataAPIScript(w http.ResponseWriter, r *http.Request, body []byte, requestID string)
	// SecretsManager serves the Secrets Manager operation op (JSON).
	SecretsManager(w http.ResponseWriter, r *http.Request, op string, body []byte, requestID string)
	// IAM serves a Query-protocol (form) call to service "iam" or "sts".
	IAM(w http.ResponseWriter, r *http.Request, service string, body []byte, requestID string)
	// Workloads serves the workload API operation op (JSON).
	Workloads(w http.ResponseWriter, r *http.Request, op string, body []byte, requestID string)
	// APIGateway serves an API Gateway call; r.URL.Path is its REST path
	// ("/apikeys", "/usageplans/ID/usage", …).
	APIGateway(w http.ResponseWriter, r *http.Request, body []byte, requestID string)
	// Clusters describes every configured cluster, unfiltered; the
	// console authorizes each before showing it.
	Clusters() []ClusterInfo
}

// Config wires a Console.
type Config struct {
	Keys       KeyVerifier
	Services   Services
	Authorizer iam.Authorizer // for rds:DescribeDBClusters
	Region     string
	Account    string
	// CredentialsURI returns the container credentials URI of a workload
	// (shown by the Connect wizard); nil leaves it to the browser.
	CredentialsURI func(workload string) string
	// SessionTTL is how long a session lasts after sign-in, however
	// active (0 = 1 h; negative is treated as 0).
	SessionTTL time.Duration
	// MaxSessions bounds live sessions; the oldest is dropped beyond it
	// (0 = 10000).
	MaxSessions int
	Log         *slog.Logger
	// Now is the clock (nil = time.Now); tests expire sessions with it.
	Now func() time.Time
	// Store, when set, keeps the sessions in the state store shared by
	// several nodes (session_shared.go), so that any node serves any
	// signed-in browser; nil keeps them in memory.
	Store state.Store
}

// Console is the web console's HTTP handler, for paths under Prefix.
type Console struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessionStore
	shared   *sharedSessions // nil: sessions are in memory
	mux      *http.ServeMux
}

var _ http.Handler = (*Console)(nil)

// New returns a Console.
func New(cfg Config) *Console {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	c := &Console{cfg: cfg, log: log.With("component", "console"),
		sessions: newSessionStore(cfg.SessionTTL, cfg.MaxSessions, cfg.Now)}
	if cfg.Store != nil {
		c.shared = &sharedSessions{st: cfg.Store, ttl: cfg.SessionTTL, now: cfg.Now}
	}
	c.mux = c.routes()
	return c
}

func (c *Console) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
	})
	m.Handle("/console/", assetHandler())
	m.HandleFunc("POST /console/api/login", c.login)
	m.HandleFunc("POST /console/api/logout", c.authed(c.logout))
	m.HandleFunc("GET /console/api/session", c.authed(c.session))
	m.HandleFunc("POST /console/api/rds-data/{action}", c.authed(c.dataAPI))
	m.HandleFunc("POST /console/api/script", c.authed(c.script))
	m.HandleFunc("POST /console/api/secretsmanager/{op}", c.authed(c.secretsManager))
	m.HandleFunc("POST /console/api/rds", c.authed(c.rdsQuery))
	m.HandleFunc("POST /console/api/{service}", c.authed(c.iamQuery))
	m.HandleFunc("GET /console/api/clusters", c.authed(c.clusters))
	m.HandleFunc("/console/api/apigateway/{path...}", c.authed(c.apiGateway))
	m.HandleFunc("POST /console/api/policy/validate", c.authed(c.validatePolicy))
	m.HandleFunc("POST /console/api/connect/plan", c.authed(c.connectPlan))
	m.HandleFunc("POST /console/api/workloads/{op}", c.authed(c.workloads))
	m.HandleFunc("/console/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFound("Unknown console API: "+r.Method+" "+r.URL.Path))
	})
	return m
}

// ServeHTTP serves the app and its API. Every response carries the
// security headers; API calls are logged once (never bodies).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !isAPI(r) {
		c.mux.ServeHTTP(w, r)
		return
	}
	h.Set("Cache-Control", "no-store")
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	c.mux.ServeHTTP(sw, r)
	c.log.Info("console request", "method", r.Method, "path", r.URL.Path, "principal", sw.principal,
		"status", sw.status, "dur", time.Since(start).Round(time.Microsecond))
}

// CSP is the Content-Security-Policy of every console response: only the
// console's own scripts, styles and API; no inline code, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

func isAPI(r *http.Request) bool {
	return len(r.URL.Path) >= len(Prefix+"api/") && r.URL.Path[:len(Prefix+"api/")] == Prefix+"api/"
}

// statusWriter records the status and principal for the log.
type statusWriter struct {
	http.ResponseWriter
	status    int
	principal string
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func writeError(w http.ResponseWriter, err error) {
	awserr.Write(w, "", err)
}

func errNotFound(msg string) *awserr.Error {
	return awserr.New("NotFoundException", http.StatusNotFound, msg)
}
