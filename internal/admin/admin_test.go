package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/iam"
)

func openTest(t *testing.T) (*Admin, *bytes.Buffer) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	var out bytes.Buffer
	a, err := Open(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, &out
}

func TestAdmin_Open(t *testing.T) {
	a, _ := openTest(t)
	if _, err := Open(a.cfg, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "in use by another sqlgate process") {
		t.Fatalf("second Open: %v, want the data dir lock error", err)
	}
}

func TestAdmin_Users(t *testing.T) {
	ctx := context.Background()
	a, out := openTest(t)
	if err := a.UsersCreate(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := a.KeysCreate(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "AWS_SECRET_ACCESS_KEY=") {
		t.Fatalf("key output %q", out)
	}
	if err := a.PoliciesAttach(ctx, "alice", "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds-data:*","Resource":"*"}}`); err != nil {
		t.Fatal(err)
	}
	if err := a.PoliciesAttach(ctx, "alice", "bad", `{"Statement":{"Effect":"Maybe"}}`); err == nil {
		t.Fatal("malformed policy accepted")
	}
	if err := a.UsersDelete(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if users, _ := a.ids.ListUsers(ctx, ""); len(users) != 0 {
		t.Fatalf("users after delete: %d", len(users))
	}
}

func TestAdmin_Connect(t *testing.T) {
	ctx := context.Background()
	a, out := openTest(t)
	opts := ConnectOptions{Cluster: "default", Function: "orders", AccessKey: true}
	for i := 0; i < 2; i++ { // idempotent
		if err := a.Connect(ctx, opts); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := a.ids.ListAccessKeys(ctx, "fn-orders")
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys = %d, %v", len(keys), err)
	}
	doc, err := a.ids.GetUserPolicy(ctx, "fn-orders", "sqlgate-connect-default")
	if err != nil {
		t.Fatal(err)
	}
	p, err := iam.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := a.secrets.Describe(ctx, "default")
	principal := &iam.Principal{ARN: "arn:aws:iam::000000000000:user/fn-orders", UserName: "fn-orders"}
	cluster := "arn:aws:rds:us-east-1:000000000000:cluster:default"
	for _, tt := range []struct {
		action, resource string
		allow            bool
	}{
		{"rds-data:ExecuteStatement", cluster, true},
		{"rds-data:CommitTransaction", cluster, true},
		{"secretsmanager:GetSecretValue", secret.ARN, true},
		{"secretsmanager:DeleteSecret", secret.ARN, false},
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:other", false},
		{"iam:CreateUser", "*", false},
	} {
		got := iam.Evaluate([]*iam.Policy{p}, &iam.Request{Action: tt.action, Resource: tt.resource, Principal: principal}).Allowed()
		if got != tt.allow {
			t.Errorf("%s on %s: allowed=%v, want %v", tt.action, tt.resource, got, tt.allow)
		}
	}
	for _, want := range []string{"export AWS_ENDPOINT_URL=http://127.0.0.1:8080", "export CLUSTER_ARN=" + cluster, "boto3", "@aws-sdk/client-rds-data", "rdsdata.NewFromConfig"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	var doc2 map[string]any
	if json.Unmarshal([]byte(doc), &doc2) != nil {
		t.Fatal("policy is not JSON")
	}
}
