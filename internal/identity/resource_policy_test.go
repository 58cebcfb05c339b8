package identity

import (
	"context"
	"testing"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// TestAuthorizer_ResourcePolicy: within one account, an Allow in either
// the identity policies or the resource policy allows; a Deny in either
// denies.
func TestAuthorizer_ResourcePolicy(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	u := mustUser(t, s, "rp")
	k := mustKey(t, s, "rp")
	const secret = "arn:aws:secretsmanager:us-east-1:000000000000:secret:rp-AbCdEf"
	if err := s.PutUserPolicy(ctx, "rp", "describe", allowDoc("secretsmanager:DescribeSecret", "*")); err != nil {
		t.Fatal(err)
	}
	p, err := s.Principal(ctx, k.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	rp := func(effect, principal, action string) *iam.Policy {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"` + effect + `","Principal":{"AWS":"` + principal +
			`"},"Action":"` + action + `","Resource":"*"}]}`
		pol, err := iam.ParseResourcePolicy([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return pol
	}
	authz := Authorizer{Store: s.Store}
	check := func(name string, pol *iam.Policy, action string, allow bool) {
		t.Helper()
		c := iam.WithResourcePolicy(iam.WithPrincipal(ctx, p, iam.RequestInfo{}), pol)
		if err := authz.Authorize(c, action, secret); (err == nil) != allow {
			t.Fatalf("%s: %s allowed=%v, want %v", name, action, err == nil, allow)
		}
	}
	check("no resource policy", nil, "secretsmanager:GetSecretValue", false)
	check("resource policy allows the user", rp("Allow", u.ARN, "secretsmanager:GetSecretValue"), "secretsmanager:GetSecretValue", true)
	check("resource policy allows the account", rp("Allow", "000000000000", "secretsmanager:GetSecretValue"), "secretsmanager:GetSecretValue", true)
	check("resource policy names someone else", rp("Allow", "arn:aws:iam::000000000000:user/other", "secretsmanager:GetSecretValue"), "secretsmanager:GetSecretValue", false)
	check("identity allows, resource silent", rp("Allow", u.ARN, "secretsmanager:GetSecretValue"), "secretsmanager:DescribeSecret", true)
	check("identity allows, resource denies", rp("Deny", u.ARN, "secretsmanager:DescribeSecret"), "secretsmanager:DescribeSecret", false)
	check("resource denies everyone", rp("Deny", "*", "secretsmanager:*"), "secretsmanager:DescribeSecret", false)
}
