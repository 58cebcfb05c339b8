package oidc

import (
	"context"
	"crypto/sha1" //nolint:gosec
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	ti := newTestIssuer(t)
	keys := &Keys{Client: ti.srv.Client()}
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": ti.srv.URL, "sub": "system:serviceaccount:prod:orders", "aud": "sts.amazonaws.com",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	exp := Expect{Issuer: ti.srv.URL, Audiences: []string{"sts.amazonaws.com"}, Now: now}
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"RS256", ti.sign(t, "RS256", "rsa1", claims(nil)), nil},
		{"ES256", ti.sign(t, "ES256", "ec1", claims(nil)), nil},
		{"aud list", ti.sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["aud"] = []string{"x", "sts.amazonaws.com"} })), nil},
		{"wrong aud", ti.sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["aud"] = "other" })), ErrInvalidToken},
		{"expired", ti.sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), ErrExpired},
		{"no exp", ti.sign(t, "RS256", "rsa1", claims(func(c map[string]any) { delete(c, "exp") })), ErrInvalidToken},
		{"not yet", ti.sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })), ErrInvalidToken},
		{"unknown kid", ti.sign(t, "RS256", "nope", claims(nil)), ErrInvalidToken},
		{"alg none", ti.sign(t, "none", "rsa1", claims(nil)), ErrInvalidToken},
		{"HS256", ti.sign(t, "HS256", "rsa1", claims(nil)), ErrInvalidToken},
		{"alg swapped to key type", ti.sign(t, "ES256", "rsa1", claims(nil)), ErrInvalidToken},
		{"other issuer", ti.sign(t, "RS256", "rsa1", claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), ErrInvalidToken},
		{"tampered", ti.sign(t, "RS256", "rsa1", claims(nil))[:40] + "x" + ti.sign(t, "RS256", "rsa1", claims(nil))[41:], ErrInvalidToken},
		{"garbage", "a.b", ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.token)
			if err == nil {
				var ks KeySet
				ks, err = keys.Get(context.Background(), ti.srv.URL, tok.Header.Kid, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = Verify(tok, ks, exp)
			}
			if !errors.Is(err, tc.want) || (tc.want != nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKeysThumbprintsAndFile(t *testing.T) {
	ti := newTestIssuer(t)
	ctx := context.Background()
	keys := &Keys{Client: ti.srv.Client()}
	if _, err := keys.Get(ctx, ti.srv.URL, "rsa1", []string{"0000000000000000000000000000000000000000"}); !errors.Is(err, ErrFetch) {
		t.Fatalf("wrong thumbprint: %v", err)
	}
	sum := sha1.Sum(ti.srv.Certificate().Raw) //nolint:gosec
	if ks, err := keys.Get(ctx, ti.srv.URL, "rsa1", []string{hex.EncodeToString(sum[:])}); err != nil || ks["rsa1"] == nil || ks["ec1"] == nil {
		t.Fatalf("right thumbprint: %v %v", ks, err)
	}
	f := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(f, ti.jwks(), 0o600); err != nil {
		t.Fatal(err)
	}
	offline := &Keys{Files: map[string]string{"https://airgapped.example": f}}
	if ks, err := offline.Get(ctx, "https://airgapped.example", "ec1", nil); err != nil || ks["ec1"] == nil {
		t.Fatalf("file: %v %v", ks, err)
	}
	if _, err := offline.Get(ctx, "https://127.0.0.1:1", "x", nil); !errors.Is(err, ErrFetch) {
		t.Fatalf("unreachable issuer: %v", err)
	}
}
