package iamapi

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
)

const testAccount = "123456789012"

var (
	rootPrincipal = &iam.Principal{ARN: "arn:aws:iam::" + testAccount + ":root", Root: true}
	bobPrincipal  = &iam.Principal{ARN: "arn:aws:iam::" + testAccount + ":user/bob", UserName: "bob"}
	rolePrincipal = &iam.Principal{ARN: "arn:aws:sts::" + testAccount + ":assumed-role/app/s1",
		UserID: "AROAEXAMPLE:s1", RoleARN: "arn:aws:iam::" + testAccount + ":role/app"}
)

// testAuthz allows root everything and other principals the actions in
// allow ("ARN action"). It records every check.
type testAuthz struct {
	mu    sync.Mutex // guards following fields
	allow map[string]bool
	calls []string // "action resource"
}

var _ iam.Authorizer = (*testAuthz)(nil)

func (z *testAuthz) Authorize(ctx context.Context, action, resource string) error {
	p := iam.PrincipalFrom(ctx)
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls = append(z.calls, action+" "+resource)
	if p != nil && (p.Root || z.allow[p.ARN+" "+action]) {
		return nil
	}
	arn := "anonymous"
	if p != nil {
		arn = p.ARN
	}
	return &iam.AccessDeniedError{PrincipalARN: arn, Action: action, Resource: resource}
}

func (z *testAuthz) last() string {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.calls) == 0 {
		return ""
	}
	return z.calls[len(z.calls)-1]
}

type testEnv struct {
	api   *API
	fake  *fakeBackend
	authz *testAuthz
	logs  *bytes.Buffer
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	e := &testEnv{fake: newFake(testAccount), authz: &testAuthz{allow: map[string]bool{}}, logs: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.api = New(e.fake, e.authz, testAccount, log)
	return e
}

type lockedWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// response is a Handle answer with its XML flattened to paths
// ("CreateUserResponse/CreateUserResult/User/UserName"); the n-th repeated
// sibling gets a suffix: member, member[2], …
type response struct {
	status  int
	header  http.Header
	raw     string
	outcome string
	flat    map[string]string
}

// call runs one Query request as p (root when nil).
func (e *testEnv) call(t *testing.T, service string, p *iam.Principal, body string) response {
	t.Helper()
	if p == nil {
		p = rootPrincipal
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req = req.WithContext(iam.WithPrincipal(req.Context(), p, iam.RequestInfo{}))
	rec := httptest.NewRecorder()
	outcome := e.api.Serve(rec, door.Request{HTTP: req, Op: service, Body: []byte(body), ID: "req-1"}).Code
	raw := rec.Body.String()
	flat, err := flatten(raw)
	if err != nil {
		t.Fatalf("response is not XML: %v\n%s", err, raw)
	}
	return response{status: rec.Code, header: rec.Header(), raw: raw, outcome: outcome, flat: flat}
}

// flatten maps element paths to their text.
func flatten(doc string) (map[string]string, error) {
	out := map[string]string{}
	dec := xml.NewDecoder(strings.NewReader(doc))
	type frame struct {
		path  string
		count map[string]int
		text  strings.Builder
	}
	stack := []*frame{{count: map[string]int{}}}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			top.count[name]++
			if n := top.count[name]; n > 1 {
				name += "[" + strconv.Itoa(n) + "]"
			}
			path := name
			if top.path != "" {
				path = top.path + "/" + name
			}
			stack = append(stack, &frame{path: path, count: map[string]int{}})
		case xml.CharData:
			top.text.Write(tok)
		case xml.EndElement:
			out[top.path] = strings.TrimSpace(top.text.String())
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 1 || len(out) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	return out, nil
}

// query builds a Query body: Action, Version and params ("K=V&…",
// already encoded).
func query(service, action, params string) string {
	v := VersionIAM
	if service == "sts" {
		v = VersionSTS
	}
	body := "Action=" + action + "&Version=" + v
	if params != "" {
		body += "&" + params
	}
	return body
}
