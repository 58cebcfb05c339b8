package iam

import (
	"testing"
	"time"
)

const (
	clusterARN = "arn:aws:rds:us-east-1:000000000000:cluster:maria"
	secretARN  = "arn:aws:secretsmanager:us-east-1:000000000000:secret:maria-app-AbCdEf"
)

var bob = &Principal{ARN: "arn:aws:iam::000000000000:user/bob", UserName: "bob", UserID: "AIDAEXAMPLEBOB"}

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

// TestEvaluate_SeedPolicy: the seed policy grants exactly six actions.
func TestEvaluate_SeedPolicy(t *testing.T) {
	p := mustParse(t, seedPolicy)
	tests := []struct {
		action, resource string
		want             Decision
	}{
		{"rds-data:ExecuteStatement", clusterARN, DecisionAllow},
		{"rds-data:BatchExecuteStatement", clusterARN, DecisionAllow},
		{"rds-data:BeginTransaction", clusterARN, DecisionAllow},
		{"rds-data:CommitTransaction", clusterARN, DecisionAllow},
		{"rds-data:RollbackTransaction", clusterARN, DecisionAllow},
		{"secretsmanager:GetSecretValue", secretARN, DecisionAllow},
		{"RDS-DATA:executestatement", clusterARN, DecisionAllow}, // actions are case-insensitive
		{"rds-data:ExecuteSql", clusterARN, DecisionImplicitDeny},
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:other", DecisionImplicitDeny},
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:MARIA", DecisionImplicitDeny}, // ARNs are case-sensitive
		{"rds-data:ExecuteStatement", clusterARN + "x", DecisionImplicitDeny},
		{"rds-data:ExecuteStatement", "arn:aws:rds:us-west-2:000000000000:cluster:maria", DecisionImplicitDeny},
		{"rds-data:ExecuteStatement", secretARN, DecisionImplicitDeny},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:other-AbCdEf", DecisionImplicitDeny},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111111111111:secret:maria-app-AbCdEf", DecisionImplicitDeny},
		{"secretsmanager:DeleteSecret", secretARN, DecisionImplicitDeny},
		{"secretsmanager:PutSecretValue", secretARN, DecisionImplicitDeny},
		{"secretsmanager:DescribeSecret", secretARN, DecisionImplicitDeny},
		{"iam:CreateUser", "arn:aws:iam::000000000000:user/x", DecisionImplicitDeny},
		{"rds-data:*", clusterARN, DecisionImplicitDeny}, // requests never carry patterns
		{"ExecuteStatement", clusterARN, DecisionImplicitDeny},
		{"", clusterARN, DecisionImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.resource, func(t *testing.T) {
			got := Evaluate([]*Policy{p}, &Request{Action: tt.action, Resource: tt.resource, Principal: bob})
			if got.Decision != tt.want {
				t.Errorf("Evaluate = %v (%s), want %v", got.Decision, got.Statement, tt.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	allowAll := `{"Version":"2012-10-17","Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}}`
	tests := []struct {
		name     string
		policies []string
		req      Request
		want     Decision
		stmt     string
	}{
		{"no policies", nil, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, DecisionImplicitDeny, ""},
		{"allow all", []string{allowAll}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, DecisionAllow, "All"},
		{"explicit deny wins across policies", []string{allowAll, `{"Version":"2012-10-17","Statement":{"Sid":"NoDelete","Effect":"Deny","Action":"secretsmanager:Delete*","Resource":"*"}}`},
			Request{Action: "secretsmanager:DeleteSecret", Resource: secretARN}, DecisionExplicitDeny, "NoDelete"},
		{"deny other action falls to allow", []string{allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"secretsmanager:Delete*","Resource":"*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: secretARN}, DecisionAllow, "All"},
		{"NotAction allow", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`},
			Request{Action: "rds-data:ExecuteStatement", Resource: clusterARN}, DecisionAllow, "Statement[0]"},
		{"NotAction allow excludes", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`},
			Request{Action: "IAM:CreateUser", Resource: "arn:aws:iam::000000000000:user/x"}, DecisionImplicitDeny, ""},
		{"NotAction deny", []string{allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["rds-data:*","secretsmanager:GetSecretValue"],"Resource":"*"}}`},
			Request{Action: "secretsmanager:DeleteSecret", Resource: secretARN}, DecisionExplicitDeny, "Statement[0]"},
		{"NotAction deny passes listed", []string{allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["rds-data:*","secretsmanager:GetSecretValue"],"Resource":"*"}}`},
			Request{Action: "rds-data:BeginTransaction", Resource: clusterARN}, DecisionAllow, "All"},
		{"NotResource deny", []string{allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"rds-data:*","NotResource":"arn:aws:rds:*:*:cluster:maria"}}`},
			Request{Action: "rds-data:ExecuteStatement", Resource: "arn:aws:rds:us-east-1:000000000000:cluster:prod"}, DecisionExplicitDeny, "Statement[0]"},
		{"NotResource deny passes listed", []string{allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"rds-data:*","NotResource":"arn:aws:rds:*:*:cluster:maria"}}`},
			Request{Action: "rds-data:ExecuteStatement", Resource: clusterARN}, DecisionAllow, "All"},
		{"NotResource allow", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","NotResource":"arn:aws:secretsmanager:*:*:secret:prod-*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: secretARN}, DecisionAllow, "Statement[0]"},
		{"NotResource allow excludes", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","NotResource":"arn:aws:secretsmanager:*:*:secret:prod-*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod-db"}, DecisionImplicitDeny, ""},
		{"NotAction+NotResource allow", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:rds:*:*:cluster:prod"}}`},
			Request{Action: "rds-data:ExecuteStatement", Resource: "arn:aws:rds:us-east-1:000000000000:cluster:prod"}, DecisionImplicitDeny, ""},
		{"question mark resource", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds-data:*","Resource":"arn:aws:rds:us-east-1:000000000000:cluster:mari?"}}`},
			Request{Action: "rds-data:ExecuteStatement", Resource: clusterARN}, DecisionAllow, "Statement[0]"},
		{"action wildcard case-insensitive", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"RDS-Data:*Transaction","Resource":"*"}}`},
			Request{Action: "rds-data:CommitTransaction", Resource: clusterARN}, DecisionAllow, "Statement[0]"},
		{"resource variable", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:bob/db", Principal: bob}, DecisionAllow, "Statement[0]"},
		{"resource variable other user", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:alice/db", Principal: bob}, DecisionImplicitDeny, ""},
		{"resource variable is literal in 2008", []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:bob/db", Principal: bob}, DecisionImplicitDeny, ""},
		{"resource variable unresolved allow", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:/db"}, DecisionImplicitDeny, ""},
		{"resource variable unresolved deny fails closed", []string{allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","NotResource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}}`},
			Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:x/db"}, DecisionExplicitDeny, "Statement[0]"},
		{"resource variable default", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*"}}`},
			Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/shared/k"}, DecisionAllow, "Statement[0]"},
		{"escapes", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${*}${?}${$}"}}`},
			Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*?$"}, DecisionAllow, "Statement[0]"},
		{"escaped star is literal", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${*}"}}`},
			Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, DecisionImplicitDeny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []*Policy
			for _, d := range tt.policies {
				ps = append(ps, mustParse(t, d))
			}
			got := Evaluate(ps, &tt.req)
			if got.Decision != tt.want || got.Statement != tt.stmt {
				t.Errorf("Evaluate = %v %q, want %v %q", got.Decision, got.Statement, tt.want, tt.stmt)
			}
		})
	}
}

func TestEvaluate_FailClosed(t *testing.T) {
	p := mustParse(t, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	if got := Evaluate([]*Policy{p}, nil); got.Decision != DecisionImplicitDeny {
		t.Errorf("nil request: %v", got.Decision)
	}
	if got := Evaluate([]*Policy{p, nil}, &Request{Action: "s3:GetObject"}); got.Decision != DecisionExplicitDeny {
		t.Errorf("nil policy: %v", got.Decision)
	}
	if got := Evaluate([]*Policy{p}, &Request{Action: "s3:GetObject"}); got.Decision != DecisionAllow {
		t.Errorf("allow: %v", got.Decision)
	}
}

// TestEvaluate_AWSExamples are policies from the IAM User Guide's example
// policies, evaluated as the guide describes.
func TestEvaluate_AWSExamples(t *testing.T) {
	// "AWS: Denies access to AWS based on the source IP"
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-ip.html
	denyIP := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}`
	// aws:SecureTransport deny, as in the Secrets Manager and S3 guides.
	denyHTTP := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`
	// "AWS: Allows access within specific dates"
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws-dates.html
	window := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds-data:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-07-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2026-12-31T23:59:59Z"}}}}`
	allowAll := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	ctx := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	tests := []struct {
		name     string
		policies []string
		ctx      map[string][]string
		want     Decision
	}{
		{"ip inside range", []string{allowAll, denyIP}, ctx("aws:sourceip", "203.0.113.7", "aws:viaawsservice", "false"), DecisionAllow},
		{"ip outside range", []string{allowAll, denyIP}, ctx("aws:sourceip", "198.51.100.1", "aws:viaawsservice", "false"), DecisionExplicitDeny},
		{"ip outside via service", []string{allowAll, denyIP}, ctx("aws:sourceip", "198.51.100.1", "aws:viaawsservice", "true"), DecisionAllow},
		{"ip missing", []string{allowAll, denyIP}, ctx("aws:viaawsservice", "false"), DecisionExplicitDeny}, // negated op, missing key: true
		{"ip v4-mapped v6", []string{allowAll, denyIP}, ctx("aws:sourceip", "::ffff:192.0.2.9", "aws:viaawsservice", "false"), DecisionAllow},
		{"ip garbage fails closed", []string{allowAll, denyIP}, ctx("aws:sourceip", "not-an-ip", "aws:viaawsservice", "false"), DecisionExplicitDeny},
		{"https", []string{allowAll, denyHTTP}, ctx("aws:securetransport", "true"), DecisionAllow},
		{"http", []string{allowAll, denyHTTP}, ctx("aws:securetransport", "false"), DecisionExplicitDeny},
		{"transport missing", []string{allowAll, denyHTTP}, ctx(), DecisionAllow}, // Bool on a missing key is false
		{"in window", []string{window}, ctx("aws:currenttime", "2026-08-01T12:00:00Z"), DecisionAllow},
		{"before window", []string{window}, ctx("aws:currenttime", "2026-06-30T23:59:59Z"), DecisionImplicitDeny},
		{"after window", []string{window}, ctx("aws:currenttime", "2027-01-01T00:00:00Z"), DecisionImplicitDeny},
		{"at window start", []string{window}, ctx("aws:currenttime", "2026-07-01T00:00:00Z"), DecisionImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []*Policy
			for _, d := range tt.policies {
				ps = append(ps, mustParse(t, d))
			}
			got := Evaluate(ps, &Request{Action: "rds-data:ExecuteStatement", Resource: clusterARN, Principal: bob, Context: tt.ctx})
			if got.Decision != tt.want {
				t.Errorf("Evaluate = %v (%s), want %v", got.Decision, got.Statement, tt.want)
			}
		})
	}
}

func TestEvaluate_CurrentTimeFromClock(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC) }
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-09-01"},"NumericGreaterThan":{"aws:EpochTime":1785000000}}}}`)
	if got := Evaluate([]*Policy{p}, &Request{Action: "s3:GetObject", Resource: "*"}); got.Decision != DecisionAllow {
		t.Errorf("Evaluate = %v, want allow", got.Decision)
	}
}

func TestEvaluate_Principals(t *testing.T) {
	trust := func(principal string) *Policy {
		p, err := ParseTrustPolicy([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}}`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	session := &Principal{ARN: "arn:aws:sts::000000000000:assumed-role/app/s1", UserID: "AROAX:s1"}
	tests := []struct {
		name      string
		principal string
		caller    *Principal
		want      Decision
	}{
		{"user by arn", `{"AWS":"arn:aws:iam::000000000000:user/bob"}`, bob, DecisionAllow},
		{"other user", `{"AWS":"arn:aws:iam::000000000000:user/alice"}`, bob, DecisionImplicitDeny},
		{"account id", `{"AWS":"000000000000"}`, bob, DecisionAllow},
		{"account root arn", `{"AWS":"arn:aws:iam::000000000000:root"}`, bob, DecisionAllow},
		{"other account", `{"AWS":"111111111111"}`, bob, DecisionImplicitDeny},
		{"star", `"*"`, nil, DecisionAllow},
		{"anonymous", `{"AWS":"000000000000"}`, nil, DecisionImplicitDeny},
		{"role session by role arn", `{"AWS":"arn:aws:iam::000000000000:role/app"}`, session, DecisionAllow},
		{"service", `{"Service":"lambda.amazonaws.com"}`, &Principal{Service: "lambda.amazonaws.com"}, DecisionAllow},
		{"service not user", `{"Service":"lambda.amazonaws.com"}`, bob, DecisionImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate([]*Policy{trust(tt.principal)}, &Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::000000000000:role/app", Principal: tt.caller})
			if got.Decision != tt.want {
				t.Errorf("Evaluate = %v, want %v", got.Decision, tt.want)
			}
		})
	}
	// NotPrincipal in a resource policy: deny everyone but bob.
	rp, err := ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"secretsmanager:GetSecretValue","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::000000000000:user/bob"},"Action":"*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	alice := &Principal{ARN: "arn:aws:iam::000000000000:user/alice", UserName: "alice"}
	for caller, want := range map[*Principal]Decision{bob: DecisionAllow, alice: DecisionExplicitDeny} {
		if got := Evaluate([]*Policy{rp}, &Request{Action: "secretsmanager:GetSecretValue", Resource: secretARN, Principal: caller}); got.Decision != want {
			t.Errorf("%s: Evaluate = %v, want %v", caller.ARN, got.Decision, want)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p := mustParse(b, seedPolicy)
	policies := []*Policy{p}
	reqs := []*Request{
		{Action: "rds-data:ExecuteStatement", Resource: clusterARN, Principal: bob},
		{Action: "secretsmanager:GetSecretValue", Resource: secretARN, Principal: bob},
		{Action: "secretsmanager:DeleteSecret", Resource: secretARN, Principal: bob},
	}
	for _, r := range reqs {
		b.Run(r.Action, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(policies, r)
			}
		})
	}
}
