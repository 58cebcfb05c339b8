package sigv4

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("0a", 32)
	tests := []struct {
		name string
		in   string
		want *Authorization
		msg  string // error message prefix when want is nil
	}{
		{"go sdk", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/rds-data/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + sig,
			&Authorization{"AKIDEXAMPLE", "20261124", "us-east-1", "rds-data", []string{"content-type", "host", "x-amz-date"}, sig}, ""},
		{"no spaces", "AWS4-HMAC-SHA256 Credential=A/20261124/r/s/aws4_request,SignedHeaders=host,Signature=" + sig,
			&Authorization{"A", "20261124", "r", "s", []string{"host"}, sig}, ""},
		{"empty", "", nil, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 Credential=x", nil, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."},
		{"no signature", "AWS4-HMAC-SHA256 Credential=A/20261124/r/s/aws4_request, SignedHeaders=host", nil, "Authorization header requires 'Signature' parameter."},
		{"missing equal", "AWS4-HMAC-SHA256 Credential", nil, "Invalid key=value pair (missing equal-sign) in Authorization header"},
		{"short credential", "AWS4-HMAC-SHA256 Credential=A/20261124/r/s, SignedHeaders=host, Signature=" + sig, nil, "Credential must have exactly 5 slash-delimited elements"},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=A/20261124/r/s/aws5_request, SignedHeaders=host, Signature=" + sig, nil, "Credential should be scoped with a valid terminator"},
		{"bad date", "AWS4-HMAC-SHA256 Credential=A/2026112x/r/s/aws4_request, SignedHeaders=host, Signature=" + sig, nil, "Credential should be scoped to a valid date"},
		{"no host", "AWS4-HMAC-SHA256 Credential=A/20261124/r/s/aws4_request, SignedHeaders=x-amz-date, Signature=" + sig, nil, "'Host' or ':authority' must be a 'SignedHeader'"},
		{"upper header", "AWS4-HMAC-SHA256 Credential=A/20261124/r/s/aws4_request, SignedHeaders=Host, Signature=" + sig, nil, "SignedHeaders must be lowercase"},
		{"short signature", "AWS4-HMAC-SHA256 Credential=A/20261124/r/s/aws4_request, SignedHeaders=host, Signature=abc", nil, "Signature must be 64 lowercase hexadecimal characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.in)
			if tt.want != nil {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeIncompleteSignature || !strings.HasPrefix(e.Msg, tt.msg) {
				t.Fatalf("got %v, want IncompleteSignatureException %q", err, tt.msg)
			}
		})
	}
}

// FuzzParseAuthorization checks that no header value panics the parser and
// that what it accepts is well formed.
func FuzzParseAuthorization(f *testing.F) {
	for _, c := range loadCaptures(f, filepath.Join("testdata", "captures")) {
		r, _ := c.request(f)
		f.Add(r.Header.Get("Authorization"))
	}
	f.Add("AWS4-HMAC-SHA256 Credential")
	f.Add("AWS4-HMAC-SHA256 ,,,=,Credential=////, SignedHeaders=;;host")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeIncompleteSignature || a != nil {
				t.Fatalf("got %v, %v", a, err)
			}
			// Only a short AWS4-* algorithm name may be echoed. The fixed
			// sentences are taken out first: a header that happens to be a
			// word of them ("Authorization") is not echoed by them.
			alg, _, _ := strings.Cut(strings.TrimSpace(h), " ")
			own := e.Msg
			for _, n := range []string{"Credential", "Signature", "SignedHeaders"} {
				own = strings.ReplaceAll(own, missingParams(n), "")
			}
			if strings.Contains(e.Msg, "Credential=") || strings.Contains(e.Msg, "Signature=") ||
				!strings.HasPrefix(alg, "AWS4-") && len(alg) > 8 && strings.Contains(own, alg) {
				t.Fatalf("message echoes the header: %q", e.Msg)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.Date) != 8 || a.Region == "" || a.Service == "" ||
			len(a.SignedHeaders) == 0 || !isHexSignature(a.Signature) {
			t.Fatalf("accepted malformed %q: %+v", h, a)
		}
	})
}
