package oidc

import (
	"testing"
	"time"
)

// FuzzParse: the JWT decoder never panics, and whatever it accepts
// Verify refuses without a key (never a crash, never a success).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifQ.eyJpc3MiOiJodHRwczovL2kiLCJhdWQiOlsiYSJdLCJleHAiOjF9.c2ln",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		"eyJhbGciOiJFUzI1NiJ9.eyJhdWQiOjF9.AA",
		"a.b.c", "..", "", "e30.e30.", "e30.e30.e30.e30",
		"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiIxIn0.x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		if Verify(tok, KeySet{}, Expect{Issuer: "https://i", Audiences: []string{"a"}, Now: time.Unix(0, 0)}) == nil {
			t.Fatalf("verified without keys: %q", s)
		}
	})
}

// FuzzParseJWKS: the JWKS decoder never panics.
func FuzzParseJWKS(f *testing.F) {
	for _, s := range []string{`{"keys":[]}`, `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"AA","y":"AA"}]}`, `{}`, `[]`, `{"keys":[{"kty":"RSA","kid":"a","e":"AAAAAAAA"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseJWKS(b) })
}
