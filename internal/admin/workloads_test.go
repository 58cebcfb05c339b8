package admin

import (
	"context"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/workload"
)

var tokenLine = regexp.MustCompile(`(?m)^export AWS_CONTAINER_AUTHORIZATION_TOKEN=(\S+)$`)

// lastToken returns the last bootstrap token printed.
func lastToken(t *testing.T, out string) string {
	t.Helper()
	m := tokenLine.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no token in %q", out)
	}
	return m[len(m)-1][1]
}

func TestAdmin_ConnectWorkload(t *testing.T) {
	ctx := context.Background()
	a, out := openTest(t)
	opts := ConnectOptions{Cluster: "default", Function: "orders"}
	if err := a.Connect(ctx, opts); err != nil {
		t.Fatal(err)
	}
	first := lastToken(t, out.String())
	if err := a.Connect(ctx, opts); err != nil { // idempotent, new token
		t.Fatal(err)
	}
	second := lastToken(t, out.String())
	if strings.Contains(out.String(), "AWS_ACCESS_KEY_ID") || strings.Contains(out.String(), "AWS_SECRET_ACCESS_KEY") {
		t.Fatal("workload mode printed an access key")
	}
	if users, _ := a.ids.ListUsers(ctx, ""); len(users) != 0 {
		t.Fatalf("workload mode created %d users", len(users))
	}
	for _, want := range []string{"export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8080/v1/credentials/orders", "export CLUSTER_ARN="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	ws := a.workloads()
	lo := netip.MustParseAddr("127.0.0.1")
	if _, _, err := ws.Issue(ctx, "orders", first, lo); err == nil {
		t.Error("the first token survived re-running connect")
	}
	_, c, err := ws.Issue(ctx, "orders", second, lo)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.ids.Principal(ctx, c.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	pols, err := a.ids.Policies(ctx, c.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	cluster := "arn:aws:rds:us-east-1:000000000000:cluster:default"
	for action, allow := range map[string]bool{"rds-data:ExecuteStatement": true, "rds-data:DeleteSecret": false, "iam:CreateUser": false} {
		got := iam.Evaluate(pols, &iam.Request{Action: action, Resource: cluster, Principal: p}).Allowed()
		if got != allow {
			t.Errorf("%s: allowed=%v, want %v", action, got, allow)
		}
	}
	// The role trusts only lambda: an ec2 workload cannot use it.
	if _, _, err := ws.Create(ctx, workload.CreateInput{Name: "vm", Type: "ec2", Role: ConnectRole("orders")}); err == nil {
		t.Error("an ec2 workload was bound to a lambda-only role")
	}
}

func TestAdmin_Workloads(t *testing.T) {
	ctx := context.Background()
	a, out := openTest(t)
	if _, err := a.ids.CreateRole(ctx, "svc", "/", ConnectTrust("ecs-tasks.amazonaws.com"), "", 0); err != nil {
		t.Fatal(err)
	}
	if err := a.WorkloadsCreate(ctx, workload.CreateInput{Name: "task", Type: "ecs", Role: "svc", AllowCIDRs: []string{"10.0.0.0/8"}}); err != nil {
		t.Fatal(err)
	}
	tok := lastToken(t, out.String())
	if err := a.WorkloadsList(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "10.0.0.0/8") || strings.Count(out.String(), tok) != 1 {
		t.Fatalf("list: %q", out.String())
	}
	if err := a.WorkloadsRotateToken(ctx, "task"); err != nil {
		t.Fatal(err)
	}
	if lastToken(t, out.String()) == tok {
		t.Fatal("rotate-token printed the old token")
	}
	if err := a.RolesRevokeSessions(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ids.GetRolePolicy(ctx, "svc", workload.RevokePolicyName); err != nil {
		t.Fatal(err)
	}
	if err := a.WorkloadsDelete(ctx, "task"); err != nil {
		t.Fatal(err)
	}
	if err := a.WorkloadsDelete(ctx, "task"); err == nil {
		t.Fatal("deleted twice")
	}
}
