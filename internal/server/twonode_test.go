package server

import (
	"github.com/sqlgate/sqlgate/internal/testdb"

	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/config"
)

// startNode starts a server on the shared PostgreSQL state dsn, with the
// cache watchers Run would start.
func startNode(t *testing.T, dsn string) *testEnv {
	t.Helper()
	return startNodeWith(t, dsn, configFor())
}

// startNodeWith is startNode over cfg.
func startNodeWith(t *testing.T, dsn string, cfg *config.Config) *testEnv {
	t.Helper()
	cfg.State = config.State{Driver: "postgres", DSN: dsn}
	e := newTestEnv(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 4)
	go func() { e.srv.ids.Run(ctx, e.srv.log); done <- struct{}{} }()
	go func() { _ = e.srv.secrets.Run(ctx); done <- struct{}{} }()
	go func() { e.srv.watchEndpointKeys(ctx); done <- struct{}{} }()
	go func() { e.srv.leases.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done; <-done; <-done }) // before the server closes
	return e
}

func TestServer_TwoNodes(t *testing.T) {
	dsn := testdb.PGSchemaURL(t, "sqlgate_twonode_test_")
	key := make([]byte, barrier.KeySize)
	_, _ = rand.Read(key)
	t.Setenv(barrier.EnvMasterKey, base64.StdEncoding.EncodeToString(key))
	a, b := startNode(t, dsn), startNode(t, dsn)
	if a.srv.defaultSecretARN == "" || a.srv.defaultSecretARN != b.srv.defaultSecretARN {
		t.Fatalf("default secret: node A %q, node B %q", a.srv.defaultSecretARN, b.srv.defaultSecretARN)
	}
	ctx := context.Background()
	exec := func(e *testEnv, c creds) rawResponse {
		body := execBody(t, e.clusterARN("default"), e.srv.defaultSecretARN, "SELECT 1")
		return e.send(t, rawRequest{Path: "/Execute", Body: body, AKID: c.akid, Secret: c.secret})
	}

	a.iamOK(t, creds{}, "CreateUser", "UserName", "fn")
	a.iamOK(t, creds{}, "PutUserPolicy", "UserName", "fn", "PolicyName", "seed", "PolicyDocument", seedPolicy)
	fn := a.createKey(t, "fn")
	t.Run("key created on A works on B at once", func(t *testing.T) {
		for name, e := range map[string]*testEnv{"B": b, "A": a} {
			if r := exec(e, fn); r.Status != http.StatusOK {
				t.Fatalf("node %s: %d %s", name, r.Status, r.Body)
			}
		}
	})
	t.Run("policy change on B applies on A", func(t *testing.T) {
		b.iamOK(t, creds{}, "PutUserPolicy", "UserName", "fn", "PolicyName", "deny", "PolicyDocument",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"rds-data:*","Resource":"*"}]}`)
		testdb.Eventually(t, time.Second, 10*time.Millisecond, "deny on A", func() bool { return exec(a, fn).Status == http.StatusForbidden })
		b.iamOK(t, creds{}, "DeleteUserPolicy", "UserName", "fn", "PolicyName", "deny")
		testdb.Eventually(t, time.Second, 10*time.Millisecond, "allow again on A", func() bool { return exec(a, fn).Status == http.StatusOK })
	})
	t.Run("deactivated on B stops on A", func(t *testing.T) {
		b.iamOK(t, creds{}, "UpdateAccessKey", "UserName", "fn", "AccessKeyId", fn.akid, "Status", "Inactive")
		testdb.Eventually(t, time.Second, 10*time.Millisecond, "inactive on A", func() bool { return exec(a, fn).Status == http.StatusForbidden })
		b.iamOK(t, creds{}, "UpdateAccessKey", "UserName", "fn", "AccessKeyId", fn.akid, "Status", "Active")
		testdb.Eventually(t, time.Second, 10*time.Millisecond, "active on A", func() bool { return exec(a, fn).Status == http.StatusOK })
	})
	t.Run("key deleted on A stops on both within 1s", func(t *testing.T) {
		// Both nodes have the key cached.
		for _, e := range []*testEnv{a, b} {
			if r := exec(e, fn); r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
		a.iamOK(t, creds{}, "DeleteAccessKey", "UserName", "fn", "AccessKeyId", fn.akid)
		if r := exec(a, fn); r.Status != http.StatusForbidden {
			t.Errorf("node A after delete: %d %s", r.Status, r.Body)
		}
		testdb.Eventually(t, time.Second, 10*time.Millisecond, "deleted on B", func() bool {
			r := exec(b, fn)
			return r.Status == http.StatusForbidden && r.Type == "UnrecognizedClientException"
		})
	})
	t.Run("console session signed in on A serves on B, sign-out on B ends it on A", func(t *testing.T) {
		ca, code := a.consoleLogin(t, a.akid, a.secretKey)
		if code != http.StatusOK {
			t.Fatalf("sign-in on A: %d", code)
		}
		cb := *ca
		cb.base = b.http.URL // the same browser, load-balanced to B
		if code, body := cb.post(t, "iam", "Action=GetUser&Version=2010-05-08"); code != http.StatusOK {
			t.Fatalf("session of A on B: %d %s", code, body)
		}
		if code, body := cb.post(t, "logout", ""); code != http.StatusOK {
			t.Fatalf("sign-out on B: %d %s", code, body)
		}
		if code, _ := ca.post(t, "iam", "Action=GetUser&Version=2010-05-08"); code != http.StatusUnauthorized {
			t.Fatalf("session signed out on B still works on A: %d", code)
		}
	})
	t.Run("secret created on A readable on B", func(t *testing.T) {
		arn := a.createSecret(t, "shared", "u", "pw1")
		got, err := b.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("shared")})
		if err != nil || *got.ARN != arn || !strings.Contains(*got.SecretString, "pw1") {
			t.Fatalf("node B: %v, %v", got, err)
		}
		if _, err := a.secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("shared"),
			SecretString: aws.String(`{"username":"u","password":"pw2"}`)}); err != nil {
			t.Fatal(err)
		}
		testdb.Eventually(t, time.Second, 10*time.Millisecond, "new value on B", func() bool {
			got, err := b.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("shared")})
			return err == nil && strings.Contains(*got.SecretString, "pw2")
		})
	})
}
