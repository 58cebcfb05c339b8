package oidc_test

import (
	"context"
	"crypto/sha1" //nolint:gosec
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sqlgate/sqlgate/internal/oidc"
	"github.com/sqlgate/sqlgate/internal/oidc/oidctest"
	"time"
)

func TestVerify(t *testing.T) {
	ti := oidctest.New(t)
	keys := &oidc.Keys{Client: ti.Srv.Client()}
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": ti.Srv.URL, "sub": "system:serviceaccount:prod:orders", "aud": "sts.amazonaws.com",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	exp := oidc.Expect{Issuer: ti.Srv.URL, Audiences: []string{"sts.amazonaws.com"}, Now: now}
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"RS256", ti.Sign(t, "RS256", "rsa1", claims(nil)), nil},
		{"ES256", ti.Sign(t, "ES256", "ec1", claims(nil)), nil},
		{"aud list", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["aud"] = []string{"x", "sts.amazonaws.com"} })), nil},
		{"wrong aud", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["aud"] = "other" })), oidc.ErrInvalidToken},
		{"expired", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), oidc.ErrExpired},
		{"no exp", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { delete(c, "exp") })), oidc.ErrInvalidToken},
		{"not yet", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })), oidc.ErrInvalidToken},
		{"unknown kid", ti.Sign(t, "RS256", "nope", claims(nil)), oidc.ErrInvalidToken},
		{"alg none", ti.Sign(t, "none", "rsa1", claims(nil)), oidc.ErrInvalidToken},
		{"HS256", ti.Sign(t, "HS256", "rsa1", claims(nil)), oidc.ErrInvalidToken},
		{"alg swapped to key type", ti.Sign(t, "ES256", "rsa1", claims(nil)), oidc.ErrInvalidToken},
		{"other issuer", ti.Sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), oidc.ErrInvalidToken},
		{"tampered", ti.Sign(t, "RS256", "rsa1", claims(nil))[:40] + "x" + ti.Sign(t, "RS256", "rsa1", claims(nil))[41:], oidc.ErrInvalidToken},
		{"garbage", "a.b", oidc.ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := oidc.Parse(tc.token)
			if err == nil {
				var ks oidc.KeySet
				ks, err = keys.Get(context.Background(), ti.Srv.URL, tok.Header.Kid, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = oidc.Verify(tok, ks, exp)
			}
			if !errors.Is(err, tc.want) || (tc.want != nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKeysThumbprintsAndFile(t *testing.T) {
	ti := oidctest.New(t)
	ctx := context.Background()
	keys := &oidc.Keys{Client: ti.Srv.Client()}
	if _, err := keys.Get(ctx, ti.Srv.URL, "rsa1", []string{"0000000000000000000000000000000000000000"}); !errors.Is(err, oidc.ErrFetch) {
		t.Fatalf("wrong thumbprint: %v", err)
	}
	sum := sha1.Sum(ti.Srv.Certificate().Raw) //nolint:gosec
	if ks, err := keys.Get(ctx, ti.Srv.URL, "rsa1", []string{hex.EncodeToString(sum[:])}); err != nil || ks["rsa1"] == nil || ks["ec1"] == nil {
		t.Fatalf("right thumbprint: %v %v", ks, err)
	}
	f := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(f, ti.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	offline := &oidc.Keys{Files: map[string]string{"https://airgapped.example": f}}
	if ks, err := offline.Get(ctx, "https://airgapped.example", "ec1", nil); err != nil || ks["ec1"] == nil {
		t.Fatalf("file: %v %v", ks, err)
	}
	if _, err := offline.Get(ctx, "https://127.0.0.1:1", "x", nil); !errors.Is(err, oidc.ErrFetch) {
		t.Fatalf("unreachable issuer: %v", err)
	}
}
