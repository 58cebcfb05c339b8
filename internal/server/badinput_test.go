package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestHandler_BadInput sends every kind of bad request (malformed, oversized,
// unsigned, wrongly typed) as raw HTTP and checks the AWS error for it:
// status, x-amzn-ErrorType and body __type. The server keeps serving.
func TestHandler_BadInput(t *testing.T) {
	env := newTestEnv(t, configFor())
	arn := env.clusterARN("default")
	exec := func(sql string) []byte {
		return jsonBody(t, map[string]any{"resourceArn": arn, "secretArn": "default", "sql": sql})
	}
	const smGet = "secretsmanager.GetSecretValue"
	getDefault := []byte(`{"SecretId":"default"}`)
	big := bytes.Repeat([]byte(" "), 5<<20)
	copy(big, exec("SELECT 1"))

	tests := []struct {
		name    string
		req     rawRequest
		status  int
		code    string // "" with status 200
		message string // substring of the message, "" = not checked
	}{
		// Malformed bodies.
		{"execute malformed json", rawRequest{Path: "/Execute", Body: []byte(`{"resourceArn":`)}, 400, "BadRequestException", "Could not parse request body"},
		{"execute json array", rawRequest{Path: "/Execute", Body: []byte(`[1,2]`)}, 400, "BadRequestException", ""},
		{"execute wrong member type", rawRequest{Path: "/Execute", Body: []byte(`{"resourceArn":"` + arn + `","secretArn":"default","sql":5}`)}, 400, "BadRequestException", "sql"},
		{"secrets malformed json", rawRequest{Target: smGet, Body: []byte(`{"SecretId":`)}, 400, "SerializationException", ""},
		{"secrets wrong member type", rawRequest{Target: smGet, Body: []byte(`{"SecretId":5}`)}, 400, "SerializationException", ""},

		// Routing.
		{"unknown secrets target", rawRequest{Target: "secretsmanager.Frobnicate", Body: []byte(`{}`)}, 400, "UnknownOperationException", ""},
		{"unknown target of another service", rawRequest{Target: "AmazonRDSv19.DescribeDBClusters", Body: []byte(`{}`)}, 404, "UnknownOperationException", ""},
		{"unknown path", rawRequest{Path: "/Nope", Body: exec("SELECT 1")}, 404, "UnknownOperationException", ""},
		{"data api path with a target", rawRequest{Path: "/Execute", Target: "AmazonRDSv19.DescribeDBClusters", Body: exec("SELECT 1")}, 404, "UnknownOperationException", ""},

		// rds-data does not look at the content type (restJson1 clients vary).
		{"execute text/plain", rawRequest{Path: "/Execute", ContentType: "text/plain", Body: exec("SELECT 1")}, 200, "", ""},
		{"execute no content type", rawRequest{Path: "/Execute", ContentType: "-", Body: exec("SELECT 1")}, 200, "", ""},
		{"execute form content type", rawRequest{Path: "/Execute", ContentType: "application/x-www-form-urlencoded", Body: exec("SELECT 1")}, 200, "", ""},
		{"lower-case path", rawRequest{Path: "/execute", Body: exec("SELECT 1")}, 200, "", ""},
		{"secrets application/json", rawRequest{Target: smGet, ContentType: "application/json", Body: getDefault}, 200, "", ""},

		// Missing required members.
		{"execute without resourceArn", rawRequest{Path: "/Execute", Body: []byte(`{"secretArn":"default","sql":"SELECT 1"}`)}, 400, "ValidationException", "'resourceArn'"},
		{"execute without secretArn", rawRequest{Path: "/Execute", Body: []byte(`{"resourceArn":"` + arn + `","sql":"SELECT 1"}`)}, 400, "ValidationException", "'secretArn'"},
		{"execute without sql", rawRequest{Path: "/Execute", Body: []byte(`{"resourceArn":"` + arn + `","secretArn":"default"}`)}, 400, "ValidationException", "'sql'"},
		{"execute empty body", rawRequest{Path: "/Execute"}, 400, "ValidationException", "Member must not be null"},
		{"batch without sql", rawRequest{Path: "/BatchExecute", Body: []byte(`{"resourceArn":"` + arn + `","secretArn":"default"}`)}, 400, "ValidationException", "'sql'"},
		{"begin without resourceArn", rawRequest{Path: "/BeginTransaction", Body: []byte(`{"secretArn":"default"}`)}, 400, "ValidationException", "'resourceArn'"},
		{"commit without transactionId", rawRequest{Path: "/CommitTransaction", Body: []byte(`{"resourceArn":"` + arn + `","secretArn":"default"}`)}, 400, "ValidationException", "'transactionId'"},
		{"secrets without SecretId", rawRequest{Target: smGet, Body: []byte(`{}`)}, 400, "ValidationException", "'secretId'"},

		// Oversize bodies are refused before anything is processed.
		{"execute 5 MiB", rawRequest{Path: "/Execute", Body: big}, 413, "RequestEntityTooLargeException", "4194304"},
		{"execute 5 MiB chunked", rawRequest{Path: "/Execute", Body: big, Tamper: chunked}, 413, "RequestEntityTooLargeException", ""},
		{"secrets 5 MiB", rawRequest{Target: smGet, Body: big}, 413, "RequestEntityTooLargeException", ""},

		// Authentication. rds-data (restJson1) answers 403, Secrets Manager (awsJson1.1) 400.
		{"execute unsigned", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), Unsigned: true}, 403, "MissingAuthenticationTokenException", ""},
		{"secrets unsigned", rawRequest{Target: smGet, Body: getDefault, Unsigned: true}, 400, "MissingAuthenticationTokenException", ""},
		{"execute unknown key", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), AKID: "AKIDUNKNOWN000000000"}, 403, "UnrecognizedClientException", "security token"},
		{"secrets unknown key", rawRequest{Target: smGet, Body: getDefault, AKID: "AKIDUNKNOWN000000000"}, 400, "UnrecognizedClientException", ""},
		{"execute wrong secret key", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), Secret: "not-the-secret"}, 403, "InvalidSignatureException", "signature we calculated"},
		{"secrets wrong secret key", rawRequest{Target: smGet, Body: getDefault, Secret: "not-the-secret"}, 400, "InvalidSignatureException", ""},
		{"execute body changed after signing", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), Tamper: replaceBody(exec("SELECT 2"))}, 403, "InvalidSignatureException", ""},
		{"execute signed header changed", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), Tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }}, 403, "InvalidSignatureException", ""},
		{"execute garbled authorization", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), Tamper: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage") }}, 403, "IncompleteSignatureException", ""},
		{"execute signed 6 minutes ago", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), SignedAt: time.Now().Add(-6 * time.Minute)}, 403, "InvalidSignatureException", "Signature expired"},
		{"execute signed 6 minutes ahead", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), SignedAt: time.Now().Add(6 * time.Minute)}, 403, "InvalidSignatureException", "Signature not yet current"},
		{"execute signed 4 minutes ago", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), SignedAt: time.Now().Add(-4 * time.Minute)}, 200, "", ""},
		{"secrets signed 6 minutes ago", rawRequest{Target: smGet, Body: getDefault, SignedAt: time.Now().Add(-6 * time.Minute)}, 400, "InvalidSignatureException", "Signature expired"},
		{"execute signed for secretsmanager", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), Service: "secretsmanager"}, 403, "InvalidSignatureException", "'rds-data'"},
		{"secrets signed for rds-data", rawRequest{Target: smGet, Body: getDefault, Service: "rds-data"}, 400, "InvalidSignatureException", "'secretsmanager'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := env.send(t, tt.req)
			switch {
			case tt.status == 200:
				if got.Status != 200 || got.ErrorType != "" {
					t.Fatalf("got %d %q %s, want 200", got.Status, got.ErrorType, got.Body)
				}
			default:
				got.checkError(t, tt.status, tt.code)
			}
			if tt.message != "" && !strings.Contains(got.Message, tt.message) {
				t.Errorf("message %q does not contain %q", got.Message, tt.message)
			}
		})
	}

	// After all of that the server still serves, through the SDKs too.
	ctx := context.Background()
	out, err := env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &arn, SecretArn: aws.String("default"), Sql: aws.String("SELECT 1")})
	if err != nil || len(out.Records) != 1 {
		t.Fatalf("execute after bad input: %v %+v", err, out)
	}
	if _, err := env.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("default")}); err != nil {
		t.Fatalf("get secret after bad input: %v", err)
	}
}

// TestHandler_BadCredentialsSDK checks what the real SDK clients surface
// for bad credentials: the exception code and the HTTP status.
func TestHandler_BadCredentialsSDK(t *testing.T) {
	env := newTestEnv(t, configFor())
	ctx := context.Background()
	arn := env.clusterARN("default")
	creds := func(akid, secret string) aws.CredentialsProvider {
		return credentials.NewStaticCredentialsProvider(akid, secret, "")
	}
	tests := []struct {
		name   string
		creds  aws.CredentialsProvider
		status int // rds-data; Secrets Manager answers 400
		code   string
	}{
		{"unknown key", creds("AKIDUNKNOWN000000000", env.secretKey), 403, "UnrecognizedClientException"},
		{"wrong secret", creds(env.akid, "wrong-secret"), 403, "InvalidSignatureException"},
		{"anonymous", aws.AnonymousCredentials{}, 403, "MissingAuthenticationTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(env.http.URL), Region: "us-east-1", Credentials: tt.creds, RetryMaxAttempts: 1})
			_, err := data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &arn, SecretArn: aws.String("default"), Sql: aws.String("SELECT 1")})
			checkAPIError(t, err, tt.status, tt.code)
			sm := secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(env.http.URL), Region: "us-east-1", Credentials: tt.creds, RetryMaxAttempts: 1})
			_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("default")})
			checkAPIError(t, err, 400, tt.code)
		})
	}
	if _, err := env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &arn, SecretArn: aws.String("default"), Sql: aws.String("SELECT 1")}); err != nil {
		t.Fatalf("execute after bad credentials: %v", err)
	}
}

// checkAPIError asserts the SDK error code and HTTP status of err.
func checkAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("got %v, want %s", err, code)
		return
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("got %v, want HTTP %d", err, status)
	}
}

// chunked sends the body without a Content-Length, so only the read limit
// can stop it.
func chunked(r *http.Request) {
	body := r.Body
	r.ContentLength = -1
	r.Body = io.NopCloser(struct{ io.Reader }{body})
	r.GetBody = nil
}

// replaceBody swaps the signed body for another of the same length.
func replaceBody(b []byte) func(*http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.GetBody = nil
	}
}

// TestDataAPI_SQLiteFileEscape checks that SQL sent to the embedded SQLite
// cluster cannot reach files outside its database: ATTACH would let any
// caller allowed to run SQL read and rewrite the state store (secrets,
// later IAM) or create files anywhere the process may write, and VACUUM
// INTO writes a copy of the database to any path.
func TestDataAPI_SQLiteFileEscape(t *testing.T) {
	env := newTestEnv(t, configFor())
	arn := env.clusterARN("default")
	outside := t.TempDir()
	tests := []struct {
		name, sql, file string
	}{
		{"attach new file", "ATTACH DATABASE '" + outside + "/attached.db' AS x", outside + "/attached.db"},
		{"attach the state store", "ATTACH DATABASE '" + env.dataDir + "/state.db' AS st", ""},
		{"vacuum into", "VACUUM INTO '" + outside + "/copy.db'", outside + "/copy.db"},
		{"database named like the state store", "", ""},
		{"writable_schema pragma", "PRAGMA writable_schema = 1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sql == "" { // a database named "state" must not open the state store
				got := env.send(t, rawRequest{Path: "/Execute", Body: jsonBody(t, map[string]any{"resourceArn": arn, "secretArn": "default", "database": "state", "sql": "SELECT count(*) FROM sqlite_master WHERE name = 'kv'"})})
				if got.Status != 200 || !strings.Contains(string(got.Body), `"longValue":0`) {
					t.Errorf("database state: %d %s, want an empty database", got.Status, got.Body)
				}
				return
			}
			got := env.send(t, rawRequest{Path: "/Execute", Body: jsonBody(t, map[string]any{"resourceArn": arn, "secretArn": "default", "sql": tt.sql})})
			if got.Status < 400 || got.Status >= 500 {
				t.Errorf("%s: %d %s, want a client error", tt.sql, got.Status, got.Body)
			}
			if tt.file != "" {
				if _, err := os.Stat(tt.file); err == nil {
					t.Errorf("%s created %s", tt.sql, tt.file)
				}
			}
		})
	}
}
