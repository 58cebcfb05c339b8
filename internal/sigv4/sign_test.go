package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSign_Verify signs requests with Sign and checks the verifier
// accepts them, and refuses them once anything signed changes.
func TestSign_Verify(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	v := &Verifier{Now: func() time.Time { return now }, Keys: KeyStoreFunc(func(_ context.Context, akid string) (string, string, error) {
		switch akid {
		case "AKIDLONG":
			return "secret-long", "", nil
		case "ASIASESSION":
			return "secret-session", "token-1", nil
		}
		return "", "", ErrUnknownKey
	})}
	for _, tt := range []struct {
		name   string
		c      Credentials
		method string
		url    string
		body   string
	}{
		{"get with query", Credentials{AccessKeyID: "AKIDLONG", SecretAccessKey: "secret-long"}, "GET", "http://127.0.0.1:8080/apikeys?includeValues=true&limit=2", ""},
		{"post body", Credentials{AccessKeyID: "AKIDLONG", SecretAccessKey: "secret-long"}, "POST", "http://h/apikeys", `{"name":"a b"}`},
		{"session token", Credentials{AccessKeyID: "ASIASESSION", SecretAccessKey: "secret-session", SessionToken: "token-1"}, "PATCH", "http://h/apikeys/k%2Fx", `{}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mk := func() *http.Request {
				r, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
				if tt.body != "" {
					r.Header.Set("Content-Type", "application/json")
				}
				Sign(r, []byte(tt.body), tt.c, "us-east-1", "apigateway", now)
				r.Host = r.URL.Host // as the server sees it
				return r
			}
			id, err := v.Verify(context.Background(), mk(), []byte(tt.body))
			if err != nil || id.AccessKeyID != tt.c.AccessKeyID || id.Service != "apigateway" || id.Region != "us-east-1" {
				t.Fatalf("verify: %+v %v", id, err)
			}
			if _, err := v.Verify(context.Background(), mk(), []byte(tt.body+" ")); err == nil {
				t.Fatal("a changed body verified")
			}
			r := mk()
			r.URL.RawQuery += "&x=1"
			if _, err := v.Verify(context.Background(), r, []byte(tt.body)); err == nil {
				t.Fatal("a changed query verified")
			}
		})
	}
}
