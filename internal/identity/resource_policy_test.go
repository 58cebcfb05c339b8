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

// TestAuthorizer_ResourcePolicyDeniesRoot: the account's root is allowed
// everything except what a resource policy explicitly denies to a
// principal set that includes it (everyone, the account, the root ARN).
func TestAuthorizer_ResourcePolicyDeniesRoot(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	root := &iam.Principal{ARN: "arn:aws:iam::" + testAccount + ":root", AccessKeyID: "AKIAROOT", Root: true, UserID: testAccount}
	const secret = "arn:aws:secretsmanager:us-east-1:000000000000:secret:rp-AbCdEf"
	authz := Authorizer{Store: s.Store}
	tests := []struct {
		name      string
		doc       string // the secret's resource policy; "" for none
		action    string
		wantAllow bool
	}{
		{"no resource policy", "", "secretsmanager:GetSecretValue", true},
		{"resource policy silent", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/x"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`, "secretsmanager:GetSecretValue", true},
		{"deny to everyone", `{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`, "secretsmanager:GetSecretValue", false},
		{"deny to the account", `{"Effect":"Deny","Principal":{"AWS":"000000000000"},"Action":"secretsmanager:*","Resource":"*"}`, "secretsmanager:GetSecretValue", false},
		{"deny to the root ARN", `{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`, "secretsmanager:GetSecretValue", false},
		{"deny of another action", `{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteSecret","Resource":"*"}`, "secretsmanager:GetSecretValue", true},
		{"deny to another user", `{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/x"},"Action":"secretsmanager:*","Resource":"*"}`, "secretsmanager:GetSecretValue", true},
		{"deny with a condition that holds", `{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, "secretsmanager:GetSecretValue", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := iam.WithPrincipal(ctx, root, iam.RequestInfo{})
			if tt.doc != "" {
				pol, err := iam.ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[` + tt.doc + `]}`))
				if err != nil {
					t.Fatal(err)
				}
				c = iam.WithResourcePolicy(c, pol)
			}
			err := authz.Authorize(c, tt.action, secret)
			if (err == nil) != tt.wantAllow {
				t.Fatalf("allowed = %v (%v), want %v", err == nil, err, tt.wantAllow)
			}
		})
	}
}
