package sigv4

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestSigningInput_Signature uses the worked example of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// (IAM ListUsers, 2015-08-30), whose signing key and signature AWS publishes.
func TestSigningInput_Signature(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	h.Set("X-Amz-Date", "20150830T123600Z")
	in := signingInput{
		method: "GET", path: "/", rawQuery: "Action=ListUsers&Version=2010-05-08",
		host: "iam.amazonaws.com", header: h, length: -1,
		signed:  []string{"content-type", "host", "x-amz-date"},
		payload: emptySHA256, amzDate: "20150830T123600Z",
		date: "20150830", region: "us-east-1", service: "iam",
	}
	var c keyCache
	key := c.signingKey(testSecret, in.date, in.region, in.service)
	if got, want := hex.EncodeToString(key[:]), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"; got != want {
		t.Errorf("signing key %s, want %s", got, want)
	}
	sig, err := in.signature(key[:])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(sig[:]), "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestSigningInput_AppendCanonical(t *testing.T) {
	tests := []struct {
		name, path, query, want string
	}{
		{"empty path", "", "", "/\n"},
		{"escaped path encoded again", "/a%20b/c%2Fd", "", "/a%2520b/c%252Fd\n"},
		{"query sorted by name then value", "/", "b=2+3&a-b=1&a=z&a=y&A=x", "/\nA=x&a=y&a=z&a-b=1&b=2%203"},
		{"valueless and reserved", "/", "x&c=~*%2B", "/\nc=~%2A%2B&x="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := signingInput{method: "GET", path: tt.path, rawQuery: tt.query}
			b, err := in.appendCanonical(nil)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b[len("GET\n"):])
			if len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Errorf("got %q, want prefix %q", got, tt.want)
			}
		})
	}
	t.Run("bad escape", func(t *testing.T) {
		in := signingInput{method: "GET", path: "/", rawQuery: "a=%zz"}
		if _, err := in.appendCanonical(nil); !errors.Is(err, errBadQuery) {
			t.Errorf("got %v, want errBadQuery", err)
		}
	})
}

func TestKeyCache_SigningKey(t *testing.T) {
	var c keyCache
	first := c.signingKey("s", "20261124", "us-east-1", "rds-data")
	for i := range maxCachedKeys + 1 {
		c.signingKey("s", "20261124", "r"+string(rune(i)), "rds-data")
	}
	if len(c.keys) > maxCachedKeys {
		t.Errorf("cache holds %d keys, max %d", len(c.keys), maxCachedKeys)
	}
	if got := c.signingKey("s", "20261124", "us-east-1", "rds-data"); got != first {
		t.Error("key changed after eviction")
	}
	if c.signingKey("t", "20261124", "us-east-1", "rds-data") == first {
		t.Error("secrets share a key")
	}
}

// FuzzVerify feeds arbitrary header strings, paths and bodies to Verify: it
// must never panic, and every failure must be an *Error.
func FuzzVerify(f *testing.F) {
	for _, c := range loadCaptures(f, filepath.Join("testdata", "captures")) {
		r, body := c.request(f)
		f.Add(r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), r.Header.Get("X-Amz-Content-Sha256"),
			r.Header.Get("X-Amz-Security-Token"), r.URL.RequestURI(), body)
	}
	f.Add("", "", "", "", "/?X-Amz-Signature=&X-Amz-Expires=-1", []byte(nil))
	at := time.Date(2026, 11, 24, 7, 35, 0, 0, time.UTC)
	v := testVerifier(at)
	f.Fuzz(func(t *testing.T, authz, date, sha, token, uri string, body []byte) {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:9", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.URL, err = r.URL.Parse(uri); err != nil {
			return
		}
		r.Host = "127.0.0.1:9"
		r.ContentLength = int64(len(body))
		for k, val := range map[string]string{"Authorization": authz, "X-Amz-Date": date,
			"X-Amz-Content-Sha256": sha, "X-Amz-Security-Token": token, "Content-Type": "application/json"} {
			if val != "" {
				r.Header.Set(k, val)
			}
		}
		id, err := v.Verify(context.Background(), r, body)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("non-*Error failure: %v", err)
		}
		if err == nil && id.AccessKeyID != testAKID {
			t.Fatalf("verified %+v", id)
		}
	})
}
