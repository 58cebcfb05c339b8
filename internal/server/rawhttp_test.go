package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawRequest is one hand-built API call, for what the SDKs will not send:
// malformed bodies, bad signatures, stale dates, byte-exact golden bodies.
type rawRequest struct {
	Path   string // "" = "/"
	Target string // X-Amz-Target, "" = none
	// ContentType "" picks the protocol's type (awsJson1.1 with a Target,
	// else application/json); "-" sends none.
	ContentType string
	Body        []byte
	// Service is the SigV4 signing name; "" derives it from Target.
	Service string
	// AKID and Secret sign the request; "" = the env's root key. Token is
	// sent as X-Amz-Security-Token (temporary credentials).
	AKID, Secret, Token string
	// Region is the credential scope's region; "" = us-east-1.
	Region   string
	SignedAt time.Time // zero = now
	Unsigned bool
	// Tamper changes the request after signing.
	Tamper func(*http.Request)
}

// rawResponse is what came back, with the AWS error envelope picked apart.
type rawResponse struct {
	Status    int
	ErrorType string // x-amzn-ErrorType header
	Type      string // body __type
	Message   string // body message
	Body      []byte
}

// newRawRequest builds and signs rr (with the v4 signer of the Go SDK).
func (e *testEnv) newRawRequest(t testing.TB, ctx context.Context, rr rawRequest) *http.Request {
	t.Helper()
	path := rr.Path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.http.URL+path, bytes.NewReader(rr.Body))
	if err != nil {
		t.Fatal(err)
	}
	ct := rr.ContentType
	switch {
	case ct == "-":
		ct = ""
	case ct == "" && rr.Target != "":
		ct = "application/x-amz-json-1.1"
	case ct == "":
		ct = "application/json"
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if rr.Target != "" {
		req.Header.Set("X-Amz-Target", rr.Target)
	}
	if !rr.Unsigned {
		service := rr.Service
		if service == "" {
			service = "rds-data"
			if strings.HasPrefix(rr.Target, "secretsmanager.") {
				service = "secretsmanager"
			}
		}
		akid, secret := rr.AKID, rr.Secret
		if akid == "" {
			akid = e.akid
		}
		if secret == "" {
			secret = e.secretKey
		}
		at := rr.SignedAt
		if at.IsZero() {
			at = time.Now()
		}
		sum := sha256.Sum256(rr.Body)
		region := rr.Region
		if region == "" {
			region = "us-east-1"
		}
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: rr.Token},
			req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
			t.Fatal(err)
		}
	}
	if rr.Tamper != nil {
		rr.Tamper(req)
	}
	return req
}

// send performs rr and reads the whole response.
func (e *testEnv) send(t testing.TB, rr rawRequest) rawResponse {
	t.Helper()
	resp, err := e.http.Client().Do(e.newRawRequest(t, context.Background(), rr))
	if err != nil {
		t.Fatalf("POST %s: %v", rr.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{Status: resp.StatusCode, ErrorType: resp.Header.Get("X-Amzn-ErrorType"), Body: body}
	var env struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &env) == nil {
		out.Type, out.Message = env.Type, env.Message
	}
	return out
}

// checkError asserts an AWS error envelope: status, header and body agree.
func (r rawResponse) checkError(t testing.TB, status int, code string) {
	t.Helper()
	if r.Status != status || r.ErrorType != code || r.Type != code {
		t.Errorf("got %d %q (__type %q) %s, want %d %s", r.Status, r.ErrorType, r.Type, r.Body, status, code)
	}
}

// jsonBody marshals v for a raw request.
func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
