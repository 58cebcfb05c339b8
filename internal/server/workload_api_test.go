package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/testdb"
	"github.com/sqlgate/sqlgate/internal/workload"
)

func workloadCall(t *testing.T, e *testEnv, c creds, op string, body map[string]any) rawResponse {
	t.Helper()
	return e.send(t, rawRequest{Target: workload.TargetPrefix + op, Service: "sqlgate", Body: jsonBody(t, body),
		AKID: c.akid, Secret: c.secret, Token: c.token})
}

// TestWorkloadAPI: the operator API creates, lists, rotates and deletes
// workloads; a caller needs sqlgate:* on the workload and iam:PassRole on
// the role.
func TestWorkloadAPI(t *testing.T) {
	w := newWorkloadEnv(t, 0)
	e := w.testEnv
	r := workloadCall(t, e, creds{}, "CreateWorkload", map[string]any{"Name": "api-fn", "Role": "FunctionRole", "AllowCidrs": []string{"127.0.0.1"}})
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var out struct {
		BootstrapToken string
		Workload       struct{ Name, RoleArn string }
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || out.BootstrapToken == "" || out.Workload.Name != "api-fn" {
		t.Fatalf("%s %v", r.Body, err)
	}
	uri := e.http.URL + workload.CredentialsPath + "api-fn"
	if _, err := credentialsFrom(context.Background(), uri, out.BootstrapToken); err != nil {
		t.Fatal(err)
	}
	if r := workloadCall(t, e, creds{}, "ListWorkloads", nil); r.Status != http.StatusOK || !json.Valid(r.Body) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// An operator allowed sqlgate:CreateWorkload but not iam:PassRole.
	e.iamOK(t, creds{}, "CreateUser", "UserName", "op")
	e.iamOK(t, creds{}, "PutUserPolicy", "UserName", "op", "PolicyName", "wl", "PolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqlgate:*","Resource":"*"}]}`)
	op := e.createKey(t, "op")
	workloadCall(t, e, op, "CreateWorkload", map[string]any{"Name": "x-fn", "Role": "FunctionRole"}).checkError(t, http.StatusForbidden, "AccessDeniedException")
	e.iamOK(t, creds{}, "PutUserPolicy", "UserName", "op", "PolicyName", "pass", "PolicyDocument",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::000000000000:role/FunctionRole"}]}`)
	if r := workloadCall(t, e, op, "CreateWorkload", map[string]any{"Name": "x-fn", "Role": "FunctionRole", "Type": "eks"}); r.Status != http.StatusBadRequest {
		t.Fatalf("eks workload on a lambda/ec2 role: %d %s", r.Status, r.Body)
	}
	r = workloadCall(t, e, op, "RotateWorkloadToken", map[string]any{"Name": "api-fn"})
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if _, err := credentialsFrom(context.Background(), uri, out.BootstrapToken); err == nil {
		t.Fatal("the rotated-out token still works")
	}
	if r := workloadCall(t, e, op, "DeleteWorkload", map[string]any{"Name": "api-fn"}); r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	workloadCall(t, e, op, "GetWorkload", map[string]any{"Name": "api-fn"}).checkError(t, http.StatusBadRequest, "ResourceNotFoundException")
	workloadCall(t, e, op, "RevokeRoleSessions", map[string]any{"RoleName": "FunctionRole"}).checkError(t, http.StatusForbidden, "AccessDeniedException")
}

// TestWorkloadRevokeTwoNodes: credentials issued by node A; revoking the
// role's sessions on node B stops them on A within a second.
func TestWorkloadRevokeTwoNodes(t *testing.T) {
	dsn := testdb.PGSchemaURL(t, "sqlgate_twonode_test_")
	key := make([]byte, barrier.KeySize)
	_, _ = rand.Read(key)
	t.Setenv(barrier.EnvMasterKey, base64.StdEncoding.EncodeToString(key))
	a, b := startNode(t, dsn), startNode(t, dsn)
	ctx := context.Background()
	if _, err := a.srv.ids.CreateRole(ctx, "FunctionRole", "/", functionTrust, "", 0); err != nil {
		t.Fatal(err)
	}
	a.iamOK(t, creds{}, "PutRolePolicy", "RoleName", "FunctionRole", "PolicyName", "seed", "PolicyDocument", seedPolicy)
	_, tok, err := a.srv.Workloads().Create(ctx, workload.CreateInput{Name: "fn2", Role: "FunctionRole"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := credentialsFrom(ctx, a.http.URL+workload.CredentialsPath+"fn2", tok)
	if err != nil {
		t.Fatal(err)
	}
	fn := creds{akid: c.AccessKeyID, secret: c.SecretAccessKey, token: c.SessionToken}
	exec := func(e *testEnv) rawResponse {
		body := execBody(t, e.clusterARN("default"), e.srv.defaultSecretARN, "SELECT 1")
		return e.send(t, rawRequest{Path: "/Execute", Body: body, AKID: fn.akid, Secret: fn.secret, Token: fn.token})
	}
	for _, e := range []*testEnv{a, b} { // cached on both
		if r := exec(e); r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	if r := workloadCall(t, b, creds{}, "RevokeRoleSessions", map[string]any{"RoleName": "FunctionRole"}); r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	testdb.Eventually(t, time.Second, 10*time.Millisecond, "revoked on A", func() bool { return exec(a).Status == http.StatusForbidden })
	if r := exec(b); r.Status != http.StatusForbidden {
		t.Fatalf("node B: %d %s", r.Status, r.Body)
	}
	// Deleting the workload on B stops its endpoint on A at once.
	if err := b.srv.Workloads().Delete(ctx, "fn2"); err != nil {
		t.Fatal(err)
	}
	if _, err := credentialsFrom(ctx, a.http.URL+workload.CredentialsPath+"fn2", tok); err == nil {
		t.Fatal("deleted workload still gets credentials on A")
	}
}
