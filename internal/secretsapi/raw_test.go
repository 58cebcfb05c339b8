package secretsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/door"
	"github.com/sqlgate/sqlgate/internal/iam"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// post sends a raw awsJson1.1 request as root.
func (e *testEnv) post(t *testing.T, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", ContentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("response %q is not JSON: %v", raw, err)
	}
	return resp.StatusCode, resp.Header, m
}

func TestAPI_Raw(t *testing.T) {
	e := newEnv(t)
	e.create(t, "mysecret", "x")
	tests := []struct {
		name, target, body string
		status             int
		code, msg          string
	}{
		{"capture cli2", "secretsmanager.GetSecretValue", `{"SecretId": "mysecret"}`, 200, "", ""},
		{"capture not found", "secretsmanager.GetSecretValue", `{"SecretId": "nope"}`, 400, "ResourceNotFoundException", msgNotFound},
		{"unknown op", "secretsmanager.Frobnicate", `{}`, 400, "UnknownOperationException", ""},
		{"wrong service", "rds.GetSecretValue", `{}`, 400, "UnknownOperationException", ""},
		{"no target", "", `{}`, 400, "UnknownOperationException", ""},
		{"malformed json", "secretsmanager.GetSecretValue", `{"SecretId":`, 400, "SerializationException", ""},
		{"wrong type", "secretsmanager.GetSecretValue", `{"SecretId":5}`, 400, "SerializationException", ""},
		{"missing secretId", "secretsmanager.GetSecretValue", `{}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"},
		{"empty body", "secretsmanager.DescribeSecret", ``, 400, "ValidationException",
			"1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"},
		{"two errors", "secretsmanager.UpdateSecretVersionStage", `{}`, 400, "ValidationException",
			"2 validation errors detected: Value null at 'versionStage' failed to satisfy constraint: Member must not be null; Value null at 'secretId' failed to satisfy constraint: Member must not be null"},
		{"short token", "secretsmanager.PutSecretValue", `{"SecretId":"mysecret","SecretString":"x","ClientRequestToken":"short"}`, 400, "ValidationException",
			"1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32"},
		{"create no name", "secretsmanager.CreateSecret", `{"SecretString":"x"}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{"bad filter key", "secretsmanager.ListSecrets", `{"Filters":[{"Key":"color","Values":["x"]}]}`, 400, "ValidationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := e.post(t, tt.target, tt.body)
			if status != tt.status {
				t.Fatalf("status = %d, want %d (%v)", status, tt.status, body)
			}
			if ct := h.Get("Content-Type"); ct != ContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			if h.Get("X-Amzn-RequestId") == "" {
				t.Error("no X-Amzn-RequestId")
			}
			if tt.code == "" {
				return
			}
			if body["__type"] != tt.code || h.Get("X-Amzn-ErrorType") != tt.code {
				t.Fatalf("code = %v / %s, want %s", body["__type"], h.Get("X-Amzn-ErrorType"), tt.code)
			}
			if tt.msg != "" && body["message"] != tt.msg {
				t.Fatalf("message = %q, want %q", body["message"], tt.msg)
			}
		})
	}
}

// TestAPI_Golden pins the JSON shape of responses. ARNs, version ids and
// request ids are random and normalised before comparison.
func TestAPI_Golden(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tok := "0123456789abcdef0123456789abcdef"
	c, err := e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("golden"), SecretString: aws.String(`{"username":"u","password":"p"}`), ClientRequestToken: &tok,
		Description: aws.String("d"),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = e.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("golden-bin"), SecretBinary: []byte{0xde, 0xad}, ClientRequestToken: aws.String(strings.Repeat("b", 32))})
	tests := []struct{ name, target, body string }{
		{"get_secret_value", "GetSecretValue", `{"SecretId":"golden"}`},
		{"get_secret_value_binary", "GetSecretValue", `{"SecretId":"golden-bin"}`},
		{"describe_secret", "DescribeSecret", `{"SecretId":"golden"}`},
		{"list_secrets", "ListSecrets", `{"Filters":[{"Key":"name","Values":["golden"]}],"MaxResults":1}`},
		{"not_found", "GetSecretValue", `{"SecretId":"missing"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req = req.WithContext(iam.WithPrincipal(req.Context(), &iam.Principal{ARN: "arn:aws:iam::000000000000:root", Root: true}, iam.RequestInfo{}))
			e.api.Serve(rec, door.Request{HTTP: req, Op: "secretsmanager." + tt.target, Body: []byte(tt.body)})
			got := rec.Body.Bytes()
			got = bytes.ReplaceAll(got, []byte(*c.ARN), []byte("ARN"))
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			out := normaliseNextToken(pretty.Bytes())
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("%s differs:\n got: %s\nwant: %s", path, out, want)
			}
		})
	}
}

// normaliseNextToken replaces other random ARNs ("golden-bin-XXXXXX").
func normaliseNextToken(b []byte) []byte {
	s := string(b)
	if i := strings.Index(s, "secret:golden-bin-"); i >= 0 {
		s = s[:i] + "secret:golden-bin-XXXXXX" + s[i+len("secret:golden-bin-XXXXXX"):]
	}
	return []byte(s)
}
