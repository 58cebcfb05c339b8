package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/lane"
)

var requestIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestLean_SameResponse sends the same signed requests through the lean
// path and through net/http alone, and compares what a client reads:
// status, body and every header but Date, the request id (checked for its
// form) and the framing (Content-Length, Transfer-Encoding, Connection).
func TestLean_SameResponse(t *testing.T) {
	env := newTestEnv(t, configFor())
	plainHS := httptest.NewServer(env.srv.Handler(false))
	t.Cleanup(plainHS.Close)
	plain := *env
	plain.http = plainHS
	arn := env.clusterARN("default")
	exec := func(sql string) []byte {
		return jsonBody(t, map[string]any{"resourceArn": arn, "secretArn": "default", "sql": sql, "includeResultMetadata": true})
	}
	big := bytes.Repeat([]byte(" "), 5<<20)
	copy(big, exec("SELECT 1"))
	tests := []struct {
		name string
		req  rawRequest
		lean bool // served by the lean path
	}{
		{"select", rawRequest{Path: "/Execute", Body: exec("SELECT 1 AS a, 'x' AS b")}, true},
		{"rows", rawRequest{Path: "/Execute", Body: exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 500) SELECT i, 'row ' || i FROM n")}, true},
		{"lower-case path", rawRequest{Path: "/execute", Body: exec("SELECT 2")}, true},
		{"sql error", rawRequest{Path: "/Execute", Body: exec("SELEC 1")}, true},
		{"malformed json", rawRequest{Path: "/Execute", Body: []byte(`{"resourceArn":`)}, true},
		{"bad signature", rawRequest{Path: "/Execute", Body: exec("SELECT 1"), Secret: "wrong"}, true},
		{"unsigned", rawRequest{Path: "/BeginTransaction", Body: []byte(`{}`), Unsigned: true}, true},
		{"data api path with a target", rawRequest{Path: "/Execute", Target: "AmazonRDSv19.DescribeDBClusters", Body: exec("SELECT 1")}, true},
		{"too large", rawRequest{Path: "/Execute", Body: big}, false},
		{"secrets manager", rawRequest{Target: "secretsmanager.GetSecretValue", Body: []byte(`{"SecretId":"default"}`)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := env.lean.Stats().Served
			got := roundTrip(t, env, tc.req)
			if served := env.lean.Stats().Served - before; served != map[bool]uint64{true: 1}[tc.lean] {
				t.Errorf("served by the lean path: %d, want lean=%v", served, tc.lean)
			}
			want := roundTrip(t, &plain, tc.req)
			if got.status != want.status || !bytes.Equal(got.body, want.body) {
				t.Errorf("lean %d %.300s\nnet/http %d %.300s", got.status, got.body, want.status, want.body)
			}
			for _, h := range []http.Header{got.header, want.header} {
				if id := h.Get("X-Amzn-Requestid"); !requestIDRE.MatchString(id) {
					t.Errorf("request id %q", id)
				}
				for _, k := range []string{"Date", "X-Amzn-Requestid", "Content-Length", "Transfer-Encoding", "Connection"} {
					h.Del(k)
				}
			}
			if !headersEqual(got.header, want.header) {
				t.Errorf("headers: lean %v, net/http %v", got.header, want.header)
			}
		})
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// roundTrip sends rr on a new keep-alive connection (so the lean path
// sees it first). The client keeps its connection alive as the SDKs do:
// net/http answers a too-large body of a client that sent "Connection:
// close" and closes at once, with the rest of the body unread, so that
// client often reads a reset instead of the 413; a keep-alive client's
// connection is half-closed and given time to read it.
func roundTrip(t *testing.T, e *testEnv, rr rawRequest) response {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(e.newRawRequest(t, context.Background(), rr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// The SDKs' keep-alive connections are served by the lean path for the
// Data API, and by net/http once a connection carried anything else.
func TestLean_SDK(t *testing.T) {
	env := newTestEnv(t, configFor())
	arn := env.clusterARN("default")
	ctx := context.Background()
	before := env.lean.Stats()
	for range 3 {
		if _, err := env.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(arn),
			SecretArn: aws.String("default"), Sql: aws.String("SELECT 1")}); err != nil {
			t.Fatal(err)
		}
	}
	if got := env.lean.Stats().Served - before.Served; got != 3 {
		t.Errorf("lean path served %d of 3 ExecuteStatement calls", got)
	}
	if _, err := env.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	if got := env.lean.Stats().HandedOff - before.HandedOff; got != 1 {
		t.Errorf("%d connections handed to net/http, want 1", got)
	}
}

// On listen.https the lean path serves the Data API's calls of the SDK
// over TLS, and net/http still serves everything else on that listener.
func TestLean_HTTPS(t *testing.T) {
	t.Setenv("SQLGATE_ROOT_ACCESS_KEY_ID", testAKID)
	t.Setenv("SQLGATE_ROOT_SECRET_ACCESS_KEY", testSecret)
	cfg := configFor()
	srv := runNodeOn(t, cfg, config.Listen{HTTPS: "127.0.0.1:0"})
	ctx := context.Background()
	srv.mu.Lock()
	lean, ok := srv.listeners[0].(*lane.Listener)
	srv.mu.Unlock()
	if !ok {
		t.Fatalf("listen.https is served by %T, want the lean path in front of net/http", srv.listeners[0])
	}
	endpoint := "https://" + srv.Addrs()[0].String()
	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	data := rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", Credentials: creds, HTTPClient: client()})
	sm := secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", Credentials: creds, HTTPClient: client()})
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	before := lean.Stats().Served
	for i := range 3 {
		out, err := data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(srv.ClusterARN(cfg.Clusters[0].Name)),
			SecretArn: aws.String("default"), Sql: aws.String(fmt.Sprintf("SELECT %d", i))})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := out.Records[0][0].(*types.FieldMemberLongValue); !ok || v.Value != int64(i) {
			t.Fatalf("SELECT %d answered %#v", i, out.Records[0][0])
		}
	}
	if got := lean.Stats().Served - before; got != 3 {
		t.Errorf("lean path served %d of 3 ExecuteStatement calls over TLS", got)
	}
}
