package sigv4

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var captureDirs = []string{filepath.Join("testdata", "captures"), filepath.Join("testdata", "signed")}

// wantCode asserts that err is an *Error with code.
func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *Error %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got %s (%s), want %s", e.Code, e.Msg, code)
	}
	return e
}

func TestVerifier_Verify(t *testing.T) {
	ctx := context.Background()
	for _, c := range loadCaptures(t, captureDirs...) {
		t.Run(c.name, func(t *testing.T) {
			r, body := c.request(t)
			at := signedAt(t, r)
			a, err := ParseAuthorization(r.Header.Get("Authorization"))
			if err != nil {
				t.Fatal(err)
			}

			t.Run("accepted", func(t *testing.T) {
				got, err := secretVerifier(at, c.secret()).Verify(ctx, r, body)
				if err != nil {
					t.Fatal(err)
				}
				want := Identity{AccessKeyID: testAKID, Region: "us-east-1", Service: a.Service, SignedAt: at}
				if *got != want {
					t.Errorf("got %+v, want %+v", *got, want)
				}
			})
			t.Run("body byte changed", func(t *testing.T) {
				if len(body) == 0 {
					t.Skip("no body")
				}
				b := append([]byte(nil), body...)
				b[len(b)/2] ^= 1
				_, err := secretVerifier(at, c.secret()).Verify(ctx, r, b)
				wantCode(t, err, CodeInvalidSignature)
			})
			for _, name := range a.SignedHeaders {
				t.Run("header "+name+" changed", func(t *testing.T) {
					r, body := c.request(t)
					mutateHeader(r, name)
					_, err := secretVerifier(at, c.secret()).Verify(ctx, r, body)
					if err == nil {
						t.Fatal("accepted a request whose signed header changed")
					}
				})
			}
			for _, d := range []time.Duration{6 * time.Minute, -6 * time.Minute} {
				t.Run("clock "+d.String(), func(t *testing.T) {
					_, err := secretVerifier(at.Add(d), c.secret()).Verify(ctx, r, body)
					wantCode(t, err, CodeInvalidSignature)
				})
			}
			t.Run("other secret", func(t *testing.T) {
				_, err := secretVerifier(at, c.secret()+"0").Verify(ctx, r, body)
				wantCode(t, err, CodeInvalidSignature)
			})
			t.Run("unknown key", func(t *testing.T) {
				v := testVerifier(at)
				v.Keys = fakeKeys{}
				_, err := v.Verify(ctx, r, body)
				wantCode(t, err, CodeUnrecognizedClient)
			})
			t.Run("session token required", func(t *testing.T) {
				v := testVerifier(at)
				v.Keys = fakeKeys{testAKID: {c.secret(), "token"}}
				_, err := v.Verify(ctx, r, body)
				wantCode(t, err, CodeUnrecognizedClient)
			})
		})
	}
}

// mutateHeader changes the value of the signed header name in r.
func mutateHeader(r *http.Request, name string) {
	switch name {
	case "host":
		r.Host += "0"
	case "content-length":
		r.ContentLength++
		if v := r.Header.Get("Content-Length"); v != "" {
			r.Header.Set("Content-Length", v+"0")
		}
	default:
		r.Header.Set(name, r.Header.Get(name)+"x")
	}
}

func TestVerifier_Verify_errors(t *testing.T) {
	ctx := context.Background()
	c := loadCaptures(t, captureDirs[0])[0]
	tests := []struct {
		name   string
		edit   func(r *http.Request)
		code   string
		status int
		msg    string // prefix of the message
	}{
		{"no authorization", func(r *http.Request) { r.Header.Del("Authorization") },
			CodeMissingAuthenticationToken, 403, "Missing Authentication Token"},
		{"no authorization awsJson", func(r *http.Request) {
			r.Header.Del("Authorization")
			r.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		}, CodeMissingAuthenticationToken, 400, "Missing Authentication Token"},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") },
			CodeIncompleteSignature, 403, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter."},
		{"no credential", func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature="+strings.Repeat("a", 64))
		}, CodeIncompleteSignature, 403, "Authorization header requires 'Credential' parameter."},
		{"no date", func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			CodeIncompleteSignature, 403, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"bad date", func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-24") },
			CodeIncompleteSignature, 403, "X-Amz-Date must be in the ISO8601 Long Format"},
		{"scope day differs", func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261125T073503Z") },
			CodeInvalidSignature, 403, "Date in Credential scope does not match YYYYMMDD"},
		{"content hash wrong", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", emptySHA256) },
			CodeInvalidSignature, 403, "The request signature we calculated does not match"},
		{"stray session token", func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "x") },
			CodeUnrecognizedClient, 403, "The security token included in the request is invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := c.request(t)
			at := signedAt(t, r)
			tt.edit(r)
			_, err := testVerifier(at).Verify(ctx, r, body)
			e := wantCode(t, err, tt.code)
			if e.HTTPStatus() != tt.status || !strings.HasPrefix(e.Msg, tt.msg) {
				t.Errorf("got %d %q, want %d %q", e.HTTPStatus(), e.Msg, tt.status, tt.msg)
			}
		})
	}
}

func TestVerifier_Verify_skewMessage(t *testing.T) {
	tests := []struct {
		name string
		now  string
		want string
	}{
		{"expired", "20261124T074505Z",
			"Signature expired: 20261124T073505Z is now earlier than 20261124T074005Z (20261124T074505Z - 5 min.)"},
		{"not yet current", "20261124T072505Z",
			"Signature not yet current: 20261124T073505Z is still later than 20261124T073005Z (20261124T072505Z + 5 min.)"},
	}
	c := loadCaptures(t, captureDirs[0])
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := findCapture(t, c, "go-sdk-v2-rdsdata#1").request(t)
			now, _ := time.Parse(timeFormat, tt.now)
			_, err := testVerifier(now).Verify(context.Background(), r, body)
			if e := wantCode(t, err, CodeInvalidSignature); e.Msg != tt.want {
				t.Errorf("got %q, want %q", e.Msg, tt.want)
			}
		})
	}
}

func TestVerifier_Verify_status(t *testing.T) {
	tests := []struct {
		capture string
		want    int
	}{
		{"go-sdk-v2-rdsdata#1", http.StatusForbidden},  // restJson1
		{"go-sdk-v2-secrets#1", http.StatusBadRequest}, // awsJson1.1
		{"awscli1-pyenv-secrets#1", http.StatusBadRequest},
	}
	all := loadCaptures(t, captureDirs[0])
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			r, body := findCapture(t, all, tt.capture).request(t)
			_, err := testVerifier(signedAt(t, r)).Verify(context.Background(), r, append(body, ' '))
			if e := wantCode(t, err, CodeInvalidSignature); e.HTTPStatus() != tt.want {
				t.Errorf("got status %d, want %d", e.HTTPStatus(), tt.want)
			}
		})
	}
}

func TestVerifier_Verify_keyStoreFailure(t *testing.T) {
	r, body := loadCaptures(t, captureDirs[0])[0].request(t)
	boom := errors.New("boom")
	v := testVerifier(signedAt(t, r))
	v.Keys = KeyStoreFunc(func(context.Context, string) (string, string, error) { return "", "", boom })
	_, err := v.Verify(context.Background(), r, body)
	var e *Error
	if !errors.Is(err, boom) || errors.As(err, &e) {
		t.Fatalf("got %v, want wrapped store error", err)
	}
}

func TestError_ForService(t *testing.T) {
	e := &Error{Code: CodeMissingAuthenticationToken, Status: http.StatusForbidden, Msg: msgMissingToken}
	if got := e.ForService("secretsmanager").HTTPStatus(); got != http.StatusBadRequest {
		t.Errorf("secretsmanager: got %d, want 400", got)
	}
	if got := e.ForService("rds-data").HTTPStatus(); got != http.StatusForbidden {
		t.Errorf("rds-data: got %d, want 403", got)
	}
	if e.Error() != "MissingAuthenticationTokenException: Missing Authentication Token" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func findCapture(t testing.TB, all []capture, name string) capture {
	t.Helper()
	for _, c := range all {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no capture %s", name)
	return capture{}
}

func BenchmarkVerifier_Verify(b *testing.B) {
	r, body := findCapture(b, loadCaptures(b, captureDirs[0]), "go-sdk-v2-rdsdata#1").request(b)
	v := testVerifier(signedAt(b, r))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}
