package sigv4

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyPresigned feeds arbitrary IAM database auth tokens (seeded
// with real ones from the aws CLI) to VerifyPresigned: never a panic; a
// refusal is an *Error with an AWS exception code and status that does not
// echo the token; an accepted token names the only known key, carries its
// signature and is within its lifetime.
func FuzzVerifyPresigned(f *testing.F) {
	toks := loadTokens(f)
	for _, tok := range toks {
		f.Add("", tok.token)
		f.Add("GET", "https://"+tok.token)
	}
	f.Add("", "127.0.0.1:5432/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%2F%2F%2F")
	f.Add("POST", "h/?X-Amz-Expires=-1&X-Amz-Date=20261129T090312Z")
	f.Add("", "://?")
	ref := toks[0]
	v := &Verifier{
		Keys: fakeKeys{testAKID: {testSecret, ref.session}},
		Now:  func() time.Time { return ref.at.Add(time.Minute) },
	}
	f.Fuzz(func(t *testing.T, method, token string) {
		id, q, err := v.VerifyPresigned(context.Background(), method, token)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" || (e.Status != http.StatusForbidden && e.Status != http.StatusBadRequest) {
				t.Fatalf("refusal %#v is not an AWS error", err)
			}
			if len(token) > 32 && strings.Contains(e.Msg, token) {
				t.Fatalf("message echoes the token: %q", e.Msg)
			}
			return
		}
		if id == nil || id.AccessKeyID != testAKID || id.SessionToken != ref.session || q.Get("X-Amz-Signature") == "" {
			t.Fatalf("accepted %q as %+v %v", token, id, q)
		}
		if age := ref.at.Add(time.Minute).Sub(id.SignedAt); age < -defaultMaxSkew || age > MaxTokenLifetime {
			t.Fatalf("accepted a token signed at %v", id.SignedAt)
		}
	})
}
