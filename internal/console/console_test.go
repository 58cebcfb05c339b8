package console

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
)

const (
	goodAKID   = "AKIDCONSOLETEST0001"
	goodSecret = "console-test-secret-0123456789abcdefghij"
)

// fakeKeys is a KeyVerifier built from function fields.
type fakeKeys struct {
	verify    func(ctx context.Context, akid, secret, token string) (*iam.Principal, error)
	principal func(ctx context.Context, akid string) (*iam.Principal, error)
}

var _ KeyVerifier = fakeKeys{}

func (f fakeKeys) VerifyKey(ctx context.Context, akid, secret, token string) (*iam.Principal, error) {
	return f.verify(ctx, akid, secret, token)
}

func (f fakeKeys) Principal(ctx context.Context, akid string) (*iam.Principal, error) {
	return f.principal(ctx, akid)
}

// fakeServices records the principal each call ran as.
type fakeServices struct {
	mu       sync.Mutex // guards calls
	calls    []string
	clusters []ClusterInfo
}

var _ Services = (*fakeServices)(nil)

func (f *fakeServices) record(r *http.Request, what string) {
	p := iam.PrincipalFrom(r.Context())
	who := "nobody"
	if p != nil {
		who = p.AccessKeyID
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, who+" "+what)
}

func (f *fakeServices) DataAPI(w http.ResponseWriter, r *http.Request, body []byte, _ string) {
	f.record(r, "rds-data "+r.URL.Path+" "+string(body))
	writeJSON(w, http.StatusOK, map[string]any{"records": []any{}})
}

func (f *fakeServices) DataAPIScript(w http.ResponseWriter, r *http.Request, body []byte, _ string) {
	f.record(r, "rds-data script "+string(body))
	writeJSON(w, http.StatusOK, map[string]any{"records": []any{}, "statements": 2})
}

func (f *fakeServices) SecretsManager(w http.ResponseWriter, r *http.Request, op string, _ []byte, _ string) {
	f.record(r, "secretsmanager "+op)
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (f *fakeServices) IAM(w http.ResponseWriter, r *http.Request, service string, body []byte, _ string) {
	f.record(r, service+" "+string(body))
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, "<ok/>")
}

func (f *fakeServices) Workloads(w http.ResponseWriter, r *http.Request, op string, body []byte, _ string) {
	f.record(r, "workloads "+op+" "+string(body))
	writeJSON(w, http.StatusOK, map[string]any{"BootstrapToken": "sgwt_test"})
}

func (f *fakeServices) APIGateway(w http.ResponseWriter, r *http.Request, body []byte, _ string) {
	f.record(r, "apigateway "+r.Method+" "+r.URL.Path+" "+r.URL.RawQuery+" "+string(body))
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (f *fakeServices) Clusters() []ClusterInfo { return f.clusters }

func (f *fakeServices) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

// fakeAuthz allows what allow lists ("action resource").
type fakeAuthz struct{ allow map[string]bool }

func (a fakeAuthz) Authorize(ctx context.Context, action, resource string) error {
	if a.allow[action+" "+resource] {
		return nil
	}
	return &iam.AccessDeniedError{PrincipalARN: iam.PrincipalFrom(ctx).ARN, Action: action, Resource: resource}
}

// consoleEnv is a Console over fakes, with a settable clock.
type consoleEnv struct {
	c    *Console
	svc  *fakeServices
	logs *bytes.Buffer
	mu   sync.Mutex // guards now
	now  time.Time
	// revoked makes Principal fail, as for a deleted key.
	revoked bool
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	e := &consoleEnv{svc: &fakeServices{}, logs: &bytes.Buffer{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	p := &iam.Principal{ARN: "arn:aws:iam::000000000000:user/alice", AccessKeyID: goodAKID, UserName: "alice"}
	keys := fakeKeys{
		verify: func(_ context.Context, akid, secret, _ string) (*iam.Principal, error) {
			if akid == goodAKID && secret == goodSecret {
				return p, nil
			}
			return nil, ErrBadCredentials
		},
		principal: func(_ context.Context, akid string) (*iam.Principal, error) {
			if akid != goodAKID || e.revoked {
				return nil, ErrBadCredentials
			}
			return p, nil
		},
	}
	e.c = New(Config{Keys: keys, Services: e.svc, Region: "us-east-1", Account: "000000000000",
		Authorizer:     fakeAuthz{allow: map[string]bool{DescribeAction + " arn:aws:rds:us-east-1:000000000000:cluster:a": true}},
		Log:            slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CredentialsURI: func(name string) string { return "http://creds.test/v1/credentials/" + name },
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.now
		}})
	return e
}

func (e *consoleEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// do sends one request; hdr holds extra headers ("Cookie", "X-CSRF-Token", …).
func (e *consoleEnv) do(method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://sqlgate.test"+path, strings.NewReader(body))
	if body != "" && strings.HasPrefix(body, "{") {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.c.ServeHTTP(w, r)
	return w
}

// login signs in and returns the session cookie and CSRF token.
func (e *consoleEnv) login(t *testing.T, hdr map[string]string) (cookie, csrf string) {
	t.Helper()
	w := e.do("POST", "/console/api/login", `{"accessKeyId":"`+goodAKID+`","secretAccessKey":"`+goodSecret+`"}`, hdr)
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var info sessionInfo
	if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	return sessionCookie(t, w), info.CSRFToken
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName && c.MaxAge >= 0 {
			return c.Value
		}
	}
	t.Fatalf("no session cookie in %v", w.Result().Header["Set-Cookie"])
	return ""
}

func authHeaders(cookie, csrf string) map[string]string {
	h := map[string]string{"Cookie": CookieName + "=" + cookie}
	if csrf != "" {
		h[CSRFHeader] = csrf
	}
	return h
}

func errType(w *httptest.ResponseRecorder) string { return w.Header().Get("X-Amzn-ErrorType") }
