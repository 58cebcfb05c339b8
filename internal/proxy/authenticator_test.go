package proxy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
)

type secretFunc func(ctx context.Context, id string) (string, string, error)

func (f secretFunc) SecretString(ctx context.Context, id string) (string, string, error) {
	return f(ctx, id)
}

type tokenFunc func(ctx context.Context, token, cluster, user string) error

func (f tokenFunc) VerifyDBToken(ctx context.Context, token, cluster, user string) error {
	return f(ctx, token, cluster, user)
}

func TestAuthenticator_CheckPassword(t *testing.T) {
	secrets := secretFunc(func(_ context.Context, id string) (string, string, error) {
		return "arn:" + id, `{"username":"app","password":"s3cret","dbname":"db"}`, nil
	})
	tokens := tokenFunc(func(ctx context.Context, token, cluster, user string) error {
		if !TokenHostOK(ctx, TokenHost(token)) {
			return errors.New("foreign host")
		}
		if strings.HasSuffix(token, "/?Action=connect&DBUser=app&X-Amz-Signature=good") && cluster == "pg" && user == "app" {
			return nil
		}
		return errors.New("rejected")
	})
	mk := func(mode string) *Authenticator {
		return NewAuthenticator(Deps{Cluster: config.Cluster{Name: "pg", Proxy: &config.Proxy{Listen: "127.0.0.1:6432", AdvertisedHosts: []string{"h:1"}, AuthSecrets: []string{"s"}, IAMAuth: mode}},
			Secrets: secrets, Tokens: tokens})
	}
	ctx := context.Background()
	good := "h:1/?Action=connect&DBUser=app&X-Amz-Signature=good"
	tests := []struct {
		mode, user, pass string
		ok, iam          bool
	}{
		{"optional", "app", "s3cret", true, false},
		{"optional", "app", "wrong", false, false},
		{"optional", "nobody", "s3cret", false, false},
		{"optional", "app", good, true, true},
		{"optional", "app", good + "x", false, false},
		{"required", "app", "s3cret", false, false},
		{"required", "app", good, true, true},
		{"disabled", "app", good, false, false},
		// The token must name a host:port the proxy answers to.
		{"optional", "app", "db.elsewhere.example:1/?Action=connect&DBUser=app&X-Amz-Signature=good", false, false},
		{"optional", "app", "h:2/?Action=connect&DBUser=app&X-Amz-Signature=good", false, false},
		{"optional", "app", "127.0.0.1:6432/?Action=connect&DBUser=app&X-Amz-Signature=good", true, true},
		{"optional", "app", "https://H:1/?Action=connect&DBUser=app&X-Amz-Signature=good", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.mode+"/"+tc.user+"/"+tc.pass[:5], func(t *testing.T) {
			l, err := mk(tc.mode).CheckPassword(ctx, tc.user, tc.pass)
			if tc.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			if err != nil && !errors.Is(err, ErrAuthFailed) {
				t.Fatalf("err %v not ErrAuthFailed", err)
			}
			if tc.ok && (l.Password != "s3cret" || l.ViaIAM != tc.iam || l.SecretARN != "arn:s" || l.Database != "db") {
				t.Fatalf("login %+v", l)
			}
		})
	}
	if _, err := mk("required").Passwords(ctx, "app"); !errors.Is(err, ErrAuthFailed) {
		t.Fatal("Passwords allowed with iam_auth required")
	}
	if c, err := mk("optional").Passwords(ctx, "app"); err != nil || len(c) != 1 || c[0].Password != "s3cret" {
		t.Fatal(c, err)
	}
}
